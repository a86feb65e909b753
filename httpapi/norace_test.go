//go:build !race

package httpapi_test

// raceEnabled is true under -race, where load runs shorter.
const raceEnabled = false
