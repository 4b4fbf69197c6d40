//! Other tools' dialects, read the way those tools read them.
//!
//! Configurations written for Fluent Bit carry its dialects: regular expressions in Onigmo's
//! Ruby syntax ([`onigmo`]). skiff translates them into its own once, at config load or in
//! `skiff migrate`, so that the hot path only ever runs its own engines; what cannot be
//! translated exactly is refused with a message that names the construct and where it is.

pub mod onigmo;
