// Command switchyard is the one Switchyard binary: the server and every
// operator command. It only parses flags and wires core/app; behaviour
// lives in the core packages, so the CLI and the admin API agree.
package main
