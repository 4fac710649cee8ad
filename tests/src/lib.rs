//! Support for the end-to-end tests of the home-to-company path.
