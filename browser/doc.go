// Package browser tests registryd's web page (package httpapi/ui) in a real
// browser: headless Chromium, driven through the DevTools protocol by
// chromedp, against the whole HTTP layer served in-process on 127.0.0.1.
// It is a module of its own so that chromedp stays out of the registry's
// go.mod. The test skips, saying so, where no Chromium is installed;
// .ci/run installs Debian's chromium first.
//
//	cd browser && go test ./...
//	BROWSER_SCREENSHOTS=/tmp/shots go test -v ./...   # keep the screenshots
//	CHROMIUM=/opt/chrome/chrome go test ./...          # another browser binary
package browser
