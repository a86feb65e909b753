//go:build !race

package registry_test

// modelRaceEnabled scales the randomized test down under the race detector,
// which makes every step several times slower.
const modelRaceEnabled = false
