package config

import (
	"strconv"
	"strings"
)

// BurntSushi/toml v1.6 keeps key positions private (MetaData.keyInfo), so
// this small scanner finds the line of every key and table header itself.
// It understands what a kiosk config uses: [table], [[array]], key = value,
// dotted and quoted keys, comments, multi-line strings and arrays. Keys
// inside inline tables fall back to the line of the inline table.

type keyLine struct {
	plain   string // "acceptor.values.5": the form MetaData.Keys uses
	indexed string // "acceptor[2].values.5": 1-based array-of-tables index
	line    int
}

type lineIndex struct {
	entries []keyLine
	byIdx   map[string]int
}

func scanKeyLines(src []byte) *lineIndex {
	li := &lineIndex{byIdx: map[string]int{}}
	arrays := map[string]int{} // plain array-of-tables path → current 1-based index
	var table []string         // current table path segments
	lines := strings.Split(string(src), "\n")
	indexed := func(segs []string) string {
		var b strings.Builder
		for i, s := range segs {
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s)
			if n, ok := arrays[strings.Join(segs[:i+1], ".")]; ok {
				b.WriteString("[" + strconv.Itoa(n) + "]")
			}
		}
		return b.String()
	}
	add := func(segs []string, line int) {
		plain := strings.Join(segs, ".")
		idx := indexed(segs)
		li.entries = append(li.entries, keyLine{plain: plain, indexed: idx, line: line})
		if _, seen := li.byIdx[idx]; !seen {
			li.byIdx[idx] = line
		}
	}
	for i := 0; i < len(lines); i++ {
		lineNo := i + 1
		s := strings.TrimSpace(lines[i])
		if s == "" || s[0] == '#' {
			continue
		}
		if strings.HasPrefix(s, "[[") {
			end := strings.Index(s, "]]")
			if end < 0 {
				continue
			}
			segs := splitKey(s[2:end])
			if segs == nil {
				continue
			}
			arrays[strings.Join(segs, ".")]++
			table = segs
			add(table, lineNo)
			continue
		}
		if s[0] == '[' {
			end := strings.LastIndex(stripComment(s), "]")
			if end < 0 {
				continue
			}
			segs := splitKey(s[1:end])
			if segs == nil {
				continue
			}
			table = segs
			add(table, lineNo)
			continue
		}
		eq := keyEnd(s)
		if eq < 0 {
			continue
		}
		segs := splitKey(s[:eq])
		if segs == nil {
			continue
		}
		full := append(append([]string{}, table...), segs...)
		add(full, lineNo)
		// Skip the continuation lines of a multi-line value so their
		// contents are not mistaken for keys.
		i = skipValue(lines, i, s[eq+1:])
	}
	return li
}

// keyEnd finds the '=' that ends the key part, outside quotes.
func keyEnd(s string) int {
	var q byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case q != 0:
			if c == q {
				q = 0
			}
		case c == '"' || c == '\'':
			q = c
		case c == '=':
			return i
		}
	}
	return -1
}

// splitKey splits a dotted key, unquoting quoted segments.
func splitKey(k string) []string {
	var segs []string
	k = strings.TrimSpace(k)
	for k != "" {
		var seg string
		switch k[0] {
		case '"', '\'':
			end := strings.IndexByte(k[1:], k[0])
			if end < 0 {
				return nil
			}
			seg = k[1 : end+1]
			if k[0] == '"' {
				if u, err := strconv.Unquote(k[:end+2]); err == nil {
					seg = u
				}
			}
			k = strings.TrimSpace(k[end+2:])
		default:
			end := strings.IndexByte(k, '.')
			if end < 0 {
				end = len(k)
			}
			seg = strings.TrimSpace(k[:end])
			k = k[end:]
		}
		segs = append(segs, seg)
		if k == "" {
			break
		}
		if k[0] != '.' {
			return nil
		}
		k = strings.TrimSpace(k[1:])
	}
	return segs
}

func stripComment(s string) string {
	if i := strings.IndexByte(s, '#'); i >= 0 {
		return s[:i]
	}
	return s
}

// skipValue returns the index of the last line of the value starting on
// line i with text v.
func skipValue(lines []string, i int, v string) int {
	for _, delim := range []string{`"""`, `'''`} {
		if strings.Count(v, delim)%2 == 1 {
			for j := i + 1; j < len(lines); j++ {
				if strings.Contains(lines[j], delim) {
					return j
				}
			}
			return len(lines) - 1
		}
	}
	depth := bracketDepth(v)
	j := i
	for depth > 0 && j+1 < len(lines) {
		j++
		depth += bracketDepth(lines[j])
	}
	return j
}

// bracketDepth counts [ minus ] outside strings and comments.
func bracketDepth(s string) int {
	d := 0
	var q byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case q != 0:
			if c == '\\' && q == '"' {
				i++
			} else if c == q {
				q = 0
			}
		case c == '"' || c == '\'':
			q = c
		case c == '#':
			return d
		case c == '[' || c == '{':
			d++
		case c == ']' || c == '}':
			d--
		}
	}
	return d
}

// line finds the line of an indexed key, falling back to its nearest
// parent that has one (a key inside an inline table, a missing key's
// table). 0 when nothing matches.
func (li *lineIndex) line(indexed string) int {
	for k := indexed; k != ""; {
		if n, ok := li.byIdx[k]; ok {
			return n
		}
		i := strings.LastIndexByte(k, '.')
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return 0
}

// nth finds the n-th (0-based) occurrence of a plain key, the way
// MetaData.Keys lists a key once per array-of-tables element.
func (li *lineIndex) nth(plain string, n int) (keyLine, bool) {
	for _, e := range li.entries {
		if e.plain == plain {
			if n == 0 {
				return e, true
			}
			n--
		}
	}
	return keyLine{}, false
}
