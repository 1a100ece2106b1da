// Package buildfiles holds tests of the repository's build files (the
// Makefile and .ci/run): the promises they make to developers and CI, such
// as a private var/ directory, checked by running them.
package buildfiles
