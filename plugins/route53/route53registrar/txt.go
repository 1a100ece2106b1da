package route53registrar

import "strings"

// maxTXTString is the longest character-string a TXT record may hold
// (RFC 1035 §3.3); longer text (DKIM keys) is split into several.
const maxTXTString = 255

// quoteTXT turns one TXT value (printable ASCII of any length, checked by
// the caller) into Route 53's presentation format: one or more quoted
// strings of at most 255 bytes, with '"' and '\' escaped.
func quoteTXT(text string) string {
	b := []byte(text)
	var parts []string
	for len(b) > 0 || len(parts) == 0 {
		n := min(len(b), maxTXTString)
		parts = append(parts, `"`+escapeTXT(b[:n])+`"`)
		b = b[n:]
	}
	return strings.Join(parts, " ")
}

func escapeTXT(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		if c == '"' || c == '\\' {
			sb.WriteByte('\\')
		}
		sb.WriteByte(c)
	}
	return sb.String()
}

// printableASCII reports whether text can be a TXT value as written:
// non-ASCII text would need an escape convention, and SPF, DKIM, DMARC
// and verification tokens are all ASCII.
func printableASCII(text string) bool {
	for i := 0; i < len(text); i++ {
		if text[i] < 0x20 || text[i] > 0x7e {
			return false
		}
	}
	return true
}

// unquoteTXT reads Route 53's presentation format back into plain text:
// the quoted strings are unescaped (\" and \\; a \DDD octal escape, Route
// 53's convention, becomes its byte) and joined. Text outside quotes (a
// value someone saved without them) is taken as it is, word by word.
func unquoteTXT(v string) string {
	var out []byte
	for i := 0; i < len(v); {
		switch c := v[i]; {
		case c == ' ' || c == '\t':
			i++
		case c == '"':
			i++
			for i < len(v) && v[i] != '"' {
				if v[i] == '\\' && i+1 < len(v) {
					if i+3 < len(v) && isOctal(v[i+1]) && isOctal(v[i+2]) && isOctal(v[i+3]) {
						out = append(out, byte(int(v[i+1]-'0')*64+int(v[i+2]-'0')*8+int(v[i+3]-'0')))
						i += 4
						continue
					}
					out = append(out, v[i+1])
					i += 2
					continue
				}
				out = append(out, v[i])
				i++
			}
			i++ // closing quote
		default:
			j := i
			for j < len(v) && v[j] != ' ' && v[j] != '\t' {
				j++
			}
			out = append(out, v[i:j]...)
			i = j
		}
	}
	return string(out)
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// isSPF reports whether a TXT value is an SPF record (RFC 7208 §4.5: the
// version section "v=spf1" alone or followed by a space).
func isSPF(text string) bool {
	t := strings.ToLower(strings.TrimSpace(text))
	return t == "v=spf1" || strings.HasPrefix(t, "v=spf1 ")
}

// isAllTerm reports whether an SPF term is the "all" mechanism with any
// qualifier.
func isAllTerm(term string) bool {
	return strings.EqualFold(strings.TrimLeft(term, "+-~?"), "all")
}

// isModifier reports whether an SPF term is a modifier (redirect=, exp=).
func isModifier(term string) bool {
	name, _, ok := strings.Cut(term, "=")
	return ok && !strings.ContainsAny(name, ":/")
}

// mergeSPF adds the mechanisms of add that existing lacks, just before
// existing's "all" (mechanisms after "all" are never evaluated) or its
// modifiers. existing keeps its own "all" qualifier and modifiers — the
// domain owner's policy (a strict "-all" stays strict); add's "all" is used
// only when existing has neither an "all" nor a redirect.
func mergeSPF(existing, add string) string {
	terms := strings.Fields(existing)
	if len(terms) == 0 {
		return add
	}
	have := map[string]bool{}
	pos, hasAll, hasRedirect := len(terms), false, false
	for i, t := range terms[1:] {
		have[strings.ToLower(t)] = true
		if isAllTerm(t) || isModifier(t) {
			if i+1 < pos {
				pos = i + 1
			}
			hasAll = hasAll || isAllTerm(t)
			hasRedirect = hasRedirect || strings.HasPrefix(strings.ToLower(t), "redirect=")
		}
	}
	var insert []string
	var addAll string
	for _, t := range strings.Fields(add)[1:] {
		switch {
		case isAllTerm(t):
			addAll = t
		case isModifier(t), have[strings.ToLower(t)]:
		default:
			have[strings.ToLower(t)] = true
			insert = append(insert, t)
		}
	}
	merged := append(append(append([]string{}, terms[:pos]...), insert...), terms[pos:]...)
	if !hasAll && !hasRedirect && addAll != "" {
		merged = append(merged, addAll)
	}
	return strings.Join(merged, " ")
}
