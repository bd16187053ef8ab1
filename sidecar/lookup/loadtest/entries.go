package loadtest

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/sidecard/sidecard/registry"
)

// Shape of the synthetic registry.
const (
	// SkillPool is the number of distinct skill ids ("skill-0".."skill-999");
	// each entry has 1 to 4 of them, so a skill matches about 0.25% of entries.
	SkillPool = 1000
	tagPool   = 300
	teams     = 20
	zones     = 5
)

// updatedAt is the fixed update time of generated entries.
var updatedAt = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// Name returns the name of the i-th generated entry.
func Name(i int) string { return fmt.Sprintf("agent-%06d", i) }

// Entries returns n valid entries named Name(0)..Name(n-1) with revisions
// 1..n, each with an A2A v0.3 card of 1 to 4 skills drawn from SkillPool,
// two tags per skill and team and zone labels. The same seed gives the same
// entries. The caller owns them.
func Entries(n int, seed uint64) ([]*registry.Entry, error) {
	rng := rand.New(rand.NewPCG(seed, seed))
	out := make([]*registry.Entry, n)
	for i := range out {
		e, err := registry.ParseEntry(entryJSON(rng, i), "")
		if err != nil {
			return nil, fmt.Errorf("generate entry %d: %w", i, err)
		}
		e.Revision = int64(i + 1)
		e.UpdatedAt = updatedAt
		e.Source = registry.SourceAPI
		out[i] = e
	}
	return out, nil
}

// Renewed returns a copy of e at revision rev, as an update that changes
// nothing else would leave it.
func Renewed(e *registry.Entry, rev int64) *registry.Entry {
	c := e.Clone()
	c.Revision = rev
	return c
}

// entryJSON returns the API form of the i-th entry.
func entryJSON(rng *rand.Rand, i int) []byte {
	skills := ""
	for s := range 1 + rng.IntN(4) {
		if s > 0 {
			skills += ","
		}
		k := rng.IntN(SkillPool)
		skills += fmt.Sprintf(`{"id":"skill-%d-%d","name":"skill-%d","description":"Does thing %d well, quickly and reliably.",`+
			`"tags":["tag-%d","tag-%d"],"examples":["please do thing %d"]}`,
			k, s, k, k, rng.IntN(tagPool), rng.IntN(tagPool), k)
	}
	return fmt.Appendf(nil, `{"name":%q,"labels":{"team":"team-%d","zone":"zone-%d"},`+
		`"endpoints":[{"url":"http://10.0.%d.%d:9001","weight":1}],`+
		`"card":{"protocolVersion":"0.3.0","name":"Agent %d","description":"Synthetic agent number %d for load tests.",`+
		`"url":"http://10.0.%d.%d:9001/a2a","version":"1.0.0","capabilities":{"streaming":true},`+
		`"defaultInputModes":["text/plain","application/json"],"defaultOutputModes":["application/json"],`+
		`"provider":{"organization":"Example Org","url":"https://example.org"},"skills":[%s]}}`,
		Name(i), rng.IntN(teams), rng.IntN(zones), i/250%256, i%250+1, i, i, i/250%256, i%250+1, skills)
}
