//! `--format html` (being built).

use std::io::{self, Write};

use super::{Origin, Sheet};

pub(super) fn write(_sheet: &Sheet<'_>, _origin: &Origin, _out: &mut dyn Write) -> io::Result<()> {
    Err(io::Error::other("--format html is not built yet"))
}
