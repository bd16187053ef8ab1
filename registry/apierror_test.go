package registry

import (
	"encoding/json"
	"testing"
)

func TestErrorJSON(t *testing.T) {
	tests := []struct {
		name, code, message, field, want string
	}{
		{name: "with field", code: CodeInvalidArgument, message: "card.skills[0].id: required", field: "card.skills[0].id",
			want: `{"error":{"code":"invalid_argument","message":"card.skills[0].id: required","field":"card.skills[0].id"}}` + "\n"},
		{name: "no field", code: CodeNotFound, message: `agent "x" not found`,
			want: `{"error":{"code":"not_found","message":"agent \"x\" not found"}}` + "\n"},
		{name: "invalid UTF-8 stays valid JSON", code: CodeInvalidArgument, message: "bad \xff byte"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ErrorJSON(tt.code, tt.message, tt.field)
			if !json.Valid(got) {
				t.Fatalf("not valid JSON: %q", got)
			}
			if tt.want != "" && string(got) != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
}
