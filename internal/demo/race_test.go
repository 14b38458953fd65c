//go:build race

package demo_test

// raceDetector is set when the tests run under -race.
const raceDetector = true
