package lookup

import "testing"

func TestNoneMatch(t *testing.T) {
	cases := []struct {
		name   string
		header string
		want   bool
	}{
		{name: "absent", header: "", want: false},
		{name: "exact", header: `"42"`, want: true},
		{name: "weak", header: `W/"42"`, want: true},
		{name: "star", header: `*`, want: true},
		{name: "star with spaces", header: `  * `, want: true},
		{name: "list", header: `"1", "42", "7"`, want: true},
		{name: "list without spaces", header: `"1","42"`, want: true},
		{name: "list weak last", header: `"1", W/"42"`, want: true},
		{name: "other", header: `"41"`, want: false},
		{name: "prefix of tag", header: `"4"`, want: false},
		{name: "unquoted", header: `42`, want: false},
		{name: "lowercase weak prefix", header: `w/"42"`, want: false},
		{name: "empty members", header: `,, ,`, want: false},
		{name: "star inside a list", header: `"1", *`, want: true},
	}
	tag := []byte(`"42"`)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := noneMatch([]byte(c.header), tag); got != c.want {
				t.Errorf("noneMatch(%q) = %v, want %v", c.header, got, c.want)
			}
		})
	}
}
