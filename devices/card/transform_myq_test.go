package card

import "testing"

// TestMyQDocumentedExamples runs every example of MyQ's own list, "ID card
// transformation commands", print server 10.1
// (https://docs.myq-solution.com/en/print-server/10.1/id-card-transformation-commands;
// the 8.2 page gives the same examples). Each word is tried as MyQ writes
// it and, for the no-argument words, also without "()".
func TestMyQDocumentedExamples(t *testing.T) {
	tests := []struct{ chain, in, want string }{
		{"ltrim(2)", "123456", "3456"},
		{"rtrim(2)", "123456", "1234"},
		{"prepend(AB)", "123456", "AB123456"},
		{"append(AB)", "123456", "123456AB"},
		{"left(2)", "123456", "12"},
		{"right(2)", "123456", "56"},
		// "Remove X characters from the left, remove Y characters from the
		// right and leave the characters in the middle."
		{"mid(2,2)", "123456", "34"},
		{"lpad(12,0)", "123456", "000000123456"},
		{"hex2dec()", "1000AB", "1048747"},
		{"dec2hex()", "1048747", "1000AB"},
		{"hex2bin()", "1000AB", "100000000000010101011"},
		{"bin2hex()", "100000000000010101011", "1000AB"},
		{"dec2bin()", "100023", "11000011010110111"},
		{"bin2dec()", "11000011010110111", "100023"},
		// "take all the characters by two and reverse the order of the pairs"
		{"reverse()", "1234AB", "AB3412"},
	}
	for _, tt := range tests {
		forms := []string{tt.chain}
		if n := len(tt.chain); tt.chain[n-2:] == "()" {
			forms = append(forms, tt.chain[:n-2])
		}
		for _, chain := range forms {
			c, err := ParseChain(chain)
			if err != nil {
				t.Errorf("ParseChain(%q): %v", chain, err)
				continue
			}
			got, err := c.Apply(tt.in)
			if err != nil || got != tt.want {
				t.Errorf("%s on %s = %q, %v; MyQ documents %s", chain, tt.in, got, err, tt.want)
			}
		}
	}
}
