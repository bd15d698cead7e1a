package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestTransformCommand(t *testing.T) {
	do := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := run(context.Background(), &env{stdout: &out, stderr: &errb, stdin: strings.NewReader("")},
			append([]string{"transform"}, args...))
		return code, out.String() + errb.String()
	}
	code, out := do("right(8)|hex2dec|lpad(10,0)", "100086F444")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	// Each step on its own line, in order, with the number it produced.
	want := []string{"input", "100086F444", "right(8)", "0086F444", "hex2dec()", "8844356", "lpad(10,0)", "0008844356"}
	at := 0
	for _, w := range want {
		i := strings.Index(out[at:], w)
		if i < 0 {
			t.Fatalf("output lacks %q after position %d:\n%s", w, at, out)
		}
		at += i + len(w)
	}
	// MyQ's own example of mid.
	if code, out := do("mid(2,2)", "123456"); code != 0 || !strings.Contains(out, "mid(2,2)  34\n") {
		t.Errorf("mid(2,2) on 123456: exit %d\n%s", code, out)
	}
	if code, out := do("upper()", "ab"); code != 0 || !strings.Contains(out, "extensions") {
		t.Errorf("extension not noted: exit %d\n%s", code, out)
	}
	if code, out := do("hex2dec", "12G4"); code != 1 || !strings.Contains(out, "word 1 hex2dec") {
		t.Errorf("bad value: exit %d\n%s", code, out)
	}
	if code, _ := do("hexdec", "1"); code != 2 {
		t.Errorf("bad chain: exit %d, want 2", code)
	}
	if code, _ := do("left(1)"); code != 2 {
		t.Errorf("missing value: exit %d, want 2", code)
	}
}
