package config

import (
	"bytes"
	"encoding"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// TestSecretRedactedEverywhere: a struct holding a Secret, handed to any
// encoder a log line or a support dump may use, never shows the secret.
func TestSecretRedactedEverywhere(t *testing.T) {
	const raw = "hunter2-s3cret"
	type holder struct {
		Name   string
		Secret Secret
	}
	h := holder{Name: "myq", Secret: Secret(raw)}
	var outs = map[string]string{}

	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	outs["json"] = string(b)
	b, err = xml.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	outs["xml (text marshalling)"] = string(b)
	outs["MarshalText"] = "Secret is not an encoding.TextMarshaler"
	if m, ok := any(Secret(raw)).(encoding.TextMarshaler); ok {
		tb, err := m.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		outs["MarshalText"] = string(tb)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%10.3s"} {
		outs["fmt "+verb] = fmt.Sprintf(verb, h) + fmt.Sprintf(verb, Secret(raw))
	}
	var jb, tb2 bytes.Buffer
	slog.New(slog.NewJSONHandler(&jb, nil)).Info("x", "secret", Secret(raw), "holder", h)
	slog.New(slog.NewTextHandler(&tb2, nil)).Info("x", "secret", Secret(raw), "holder", h)
	outs["slog json"], outs["slog text"] = jb.String(), tb2.String()

	for where, out := range outs {
		if strings.Contains(out, raw) || strings.Contains(out, fmt.Sprintf("%x", raw)) {
			t.Errorf("%s shows the secret: %s", where, out)
		}
		if !strings.Contains(out, "redacted") {
			t.Errorf("%s does not say [redacted]: %s", where, out)
		}
	}
	if Secret(raw).Reveal() != raw {
		t.Error("Reveal lost the secret")
	}
}
