package ui_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/modelreg/registry/httpapi/ui"
)

// The page mounted on a mux of one's own; httpapi.NewHandler does the same
// beside the native API it calls.
func ExampleHandler() {
	mux := http.NewServeMux()
	mux.Handle("GET "+ui.Prefix, ui.Handler())
	srv := httptest.NewServer(mux)
	defer srv.Close()

	res, err := http.Get(srv.URL + "/ui/")
	if err != nil {
		panic(err)
	}
	res.Body.Close()
	fmt.Println(res.StatusCode, res.Header.Get("Content-Type"))
	// Output: 200 text/html; charset=utf-8
}
