//! The data phase: tables of many entities read exactly from what users
//! have — CSV in their locale and encoding, spreadsheets — into typed
//! columns, whole or in batches of whole entities, with every problem at
//! its `file:line:col`. Knows nothing of formulas.

pub(crate) mod chunks;
pub(crate) mod csv;
pub(crate) mod decimal;
pub(crate) mod encoding;
pub(crate) mod error;
pub(crate) mod period;
pub(crate) mod quotes;
pub(crate) mod reader;
pub(crate) mod records;
pub(crate) mod shape;
pub(crate) mod table;
pub(crate) mod warnings;
pub(crate) mod workbook;
