package lookout_test

import (
	"net/url"

	"github.com/modelreg/registry/httpapi/lookout"
)

const TokenTTLForTest = lookout.TokenTTL

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
