// Package domain holds Switchyard's entities, money, state machines and the
// error vocabulary shared by every layer. It performs no I/O, so every other
// core package can depend on it without dragging storage or transport along.
package domain
