//! Clan's selector language (`clan select`): parsing, application to values, and output.
