package proxy

import (
	"strings"
	"testing"
	"time"
)

func TestOptionsValidate(t *testing.T) {
	cases := []struct {
		name    string
		edit    func(*Options)
		wantKey string // "" for valid
	}{
		{name: "defaults", edit: func(*Options) {}},
		{name: "least request", edit: func(o *Options) { o.LBPolicy = LeastRequest }},
		{name: "no retries, no ejection", edit: func(o *Options) { o.MaxRetries, o.Outlier.ConsecutiveErrors = 0, 0 }},
		{name: "advertise addr", edit: func(o *Options) { o.AdvertiseAddr = "[::1]:17000" }},
		{name: "unknown policy", edit: func(o *Options) { o.LBPolicy = "random" }, wantKey: "lb_policy"},
		{name: "empty policy", edit: func(o *Options) { o.LBPolicy = "" }, wantKey: "lb_policy"},
		{name: "zero connect timeout", edit: func(o *Options) { o.ConnectTimeout = 0 }, wantKey: "connect_timeout"},
		{name: "negative request timeout", edit: func(o *Options) { o.RequestTimeout = -time.Second }, wantKey: "request_timeout"},
		{name: "zero stream timeout", edit: func(o *Options) { o.StreamTimeout = 0 }, wantKey: "stream_timeout"},
		{name: "too many retries", edit: func(o *Options) { o.MaxRetries = 11 }, wantKey: "max_retries"},
		{name: "budget over 100", edit: func(o *Options) { o.RetryBudgetPercent = 101 }, wantKey: "retry_budget_percent"},
		{name: "negative consecutive", edit: func(o *Options) { o.Outlier.ConsecutiveErrors = -1 }, wantKey: "outlier.consecutive_errors"},
		{name: "zero base ejection", edit: func(o *Options) { o.Outlier.BaseEjection = 0 }, wantKey: "outlier.base_ejection"},
		{name: "max below base", edit: func(o *Options) { o.Outlier.MaxEjection = time.Second }, wantKey: "outlier.max_ejection"},
		{name: "ejection percent", edit: func(o *Options) { o.Outlier.MaxEjectionPercent = 101 }, wantKey: "outlier.max_ejection_percent"},
		{name: "zero body", edit: func(o *Options) { o.MaxBodyBytes = 0 }, wantKey: "max_body_bytes"},
		{name: "huge body", edit: func(o *Options) { o.MaxBodyBytes = 1 << 30 }, wantKey: "max_body_bytes"},
		{name: "zero concurrency", edit: func(o *Options) { o.MaxConcurrentPerAgent = 0 }, wantKey: "max_concurrent_per_agent"},
		{name: "advertise without port", edit: func(o *Options) { o.AdvertiseAddr = "host" }, wantKey: "advertise_addr"},
		{name: "advertise port 0", edit: func(o *Options) { o.AdvertiseAddr = "host:0" }, wantKey: "advertise_addr"},
		{name: "advertise URL", edit: func(o *Options) { o.AdvertiseAddr = "http://host:1" }, wantKey: "advertise_addr"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := DefaultOptions()
			c.edit(&o)
			before := o
			err := o.Validate()
			if o != before {
				t.Error("Validate modified the options")
			}
			switch {
			case c.wantKey == "" && err != nil:
				t.Errorf("Validate = %v, want nil", err)
			case c.wantKey != "" && (err == nil || !strings.HasPrefix(err.Error(), c.wantKey+":")):
				t.Errorf("Validate = %v, want an error on %s", err, c.wantKey)
			}
		})
	}
}

func TestOptionsValidateReportsAll(t *testing.T) {
	o := DefaultOptions()
	o.LBPolicy, o.MaxBodyBytes = "x", 0
	err := o.Validate()
	if err == nil || !strings.Contains(err.Error(), "lb_policy:") || !strings.Contains(err.Error(), "max_body_bytes:") {
		t.Errorf("Validate = %v, want both problems", err)
	}
}

func TestNewRefuses(t *testing.T) {
	bad := DefaultOptions()
	bad.MaxRetries = -1
	e := newEnv(t, nil, nil)
	cases := []struct {
		name string
		opts Options
		deps Deps
	}{
		{name: "invalid options", opts: bad, deps: Deps{Source: e.replica}},
		{name: "no source", opts: DefaultOptions()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := New(c.opts, c.deps); err == nil {
				t.Error("New succeeded")
			}
		})
	}
}

func TestTimeoutByAccept(t *testing.T) {
	o := DefaultOptions()
	cases := []struct {
		accept string
		want   time.Duration
	}{
		{accept: "", want: o.RequestTimeout},
		{accept: "application/json", want: o.RequestTimeout},
		{accept: "text/event-stream", want: o.StreamTimeout},
		{accept: "application/json, text/event-stream", want: o.StreamTimeout},
	}
	for _, c := range cases {
		if got := o.timeout([]byte(c.accept)); got != c.want {
			t.Errorf("timeout(%q) = %v, want %v", c.accept, got, c.want)
		}
	}
}
