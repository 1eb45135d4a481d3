//! Unit tests of the boundary, calling the extern functions directly.
