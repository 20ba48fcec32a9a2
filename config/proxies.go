package config

import (
	"fmt"
	"net/netip"
	"strings"
)

// ParseProxies reads REKINDLE_TRUSTED_PROXIES: addresses or CIDR prefixes,
// separated by commas ("127.0.0.1, 10.0.0.0/8"). A lone address is a
// prefix of its full length.
func ParseProxies(v string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if p, err := netip.ParsePrefix(part); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil {
			return nil, fmt.Errorf("%q is not an IP address or CIDR prefix (e.g. 127.0.0.1 or 10.0.0.0/8)", part)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

func proxies(v string) error {
	_, err := ParseProxies(v)
	return err
}
