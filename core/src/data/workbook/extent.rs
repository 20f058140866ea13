//! The extent of an `.ods` spreadsheet, checked before it is read: calamine
//! reads every sheet of an `.ods` file whole when it opens it, into one grid
//! per sheet from A1 to its last cell (repeated rows and columns expanded),
//! so a few bytes (`table:number-columns-repeated="1000000000"` before a
//! value, or one value at the sheet's last cell) could ask for terabytes.
//! This scan streams `content.xml` and measures each sheet's grid first.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use quick_xml::events::{BytesStart, Event};

/// The last row (1-based) a spreadsheet can have: Excel's 1,048,576.
pub const MAX_ROWS: u32 = 1_048_576;

/// The last column (1-based) a spreadsheet can have: Excel's 16,384 (`XFD`).
pub const MAX_COLUMNS: u32 = 16_384;

/// The most cells a sheet read whole may span (rows × columns up to its
/// last cell, empty ones included): 16,777,216, an `.xls` sheet's whole grid.
pub const MAX_GRID_CELLS: u64 = 1 << 24;

/// A sheet's grid so far.
#[derive(Default)]
struct Grid {
    name: String,
    /// Rows read, repeats counted.
    rows: u64,
    /// Rows up to the last one with a value.
    height: u64,
    /// Columns up to the last value of any row.
    width: u64,
    /// The row and column of the value that set `width` or `height` last.
    far: (u64, u64),
}

/// Checks that every sheet of the `.ods` file at `path` spans at most
/// [`MAX_GRID_CELLS`] cells and lies within [`MAX_ROWS`] × [`MAX_COLUMNS`];
/// the error names the sheet and its farthest cell, and what to do.
pub(crate) fn check_ods(path: &Path) -> Result<(), String> {
    let cannot = |e: &dyn std::fmt::Display| format!("cannot read the spreadsheet: {e}");
    let file = File::open(path).map_err(|e| cannot(&e))?;
    let mut zip = zip::ZipArchive::new(BufReader::new(file)).map_err(|e| cannot(&e))?;
    let content = match zip.by_name("content.xml") {
        Ok(content) => content,
        // Not an .ods calamine reads: it says why.
        Err(_) => return Ok(()),
    };
    let mut xml = quick_xml::Reader::from_reader(BufReader::new(content));
    let mut buf = Vec::new();
    let mut grid: Option<Grid> = None;
    // Within a row: the column reached, and the end of its last value.
    let (mut column, mut row_end, mut row_repeats) = (0u64, 0u64, 1u64);
    let mut depth_in_cell = 0usize;
    loop {
        buf.clear();
        let event = match xml.read_event_into(&mut buf) {
            Ok(event) => event,
            // Malformed XML: calamine reports it when it reads the file.
            Err(_) => return Ok(()),
        };
        let (start, empty) = match &event {
            Event::Start(e) => (Some(e), false),
            Event::Empty(e) => (Some(e), true),
            _ => (None, false),
        };
        if let Some(e) = start {
            if depth_in_cell > 0 {
                // Inside a cell (its text, an annotation): not the grid.
                if !empty {
                    depth_in_cell += 1;
                }
                continue;
            }
            match e.name().as_ref() {
                b"table:table" => {
                    grid = Some(Grid {
                        name: attribute(e, b"table:name").unwrap_or_default(),
                        ..Grid::default()
                    });
                }
                b"table:table-row" => {
                    row_repeats = repeats(e, b"table:number-rows-repeated");
                    (column, row_end) = (0, 0);
                    if empty {
                        end_row(grid.as_mut(), row_end, row_repeats)?;
                    }
                }
                b"table:table-cell" | b"table:covered-table-cell" => {
                    let first = column;
                    column = column.saturating_add(repeats(e, b"table:number-columns-repeated"));
                    let valued = e.attributes().flatten().any(|a| {
                        matches!(
                            a.key.as_ref(),
                            b"office:value"
                                | b"office:string-value"
                                | b"office:date-value"
                                | b"office:time-value"
                                | b"office:boolean-value"
                                | b"office:value-type"
                                | b"table:formula"
                        )
                    });
                    if valued || !empty {
                        row_end = column;
                        if let Some(grid) = grid.as_mut() {
                            grid.far = (grid.rows.saturating_add(1), first.saturating_add(1));
                        }
                    }
                    if !empty {
                        depth_in_cell = 1;
                    }
                }
                _ => {}
            }
            continue;
        }
        match &event {
            Event::End(_) if depth_in_cell > 0 => depth_in_cell -= 1,
            Event::End(e) if e.name().as_ref() == b"table:table-row" => {
                end_row(grid.as_mut(), row_end, row_repeats)?;
            }
            Event::End(e) if e.name().as_ref() == b"table:table" => grid = None,
            Event::Eof => return Ok(()),
            _ => {}
        }
    }
}

/// Adds a row (repeated `repeats` times) whose last value ends at `row_end`.
fn end_row(grid: Option<&mut Grid>, row_end: u64, repeats: u64) -> Result<(), String> {
    let Some(grid) = grid else {
        return Ok(());
    };
    grid.rows = grid.rows.saturating_add(repeats);
    if row_end > 0 {
        grid.height = grid.rows;
        grid.width = grid.width.max(row_end);
    }
    let cells = grid.height.saturating_mul(grid.width);
    if grid.height > u64::from(MAX_ROWS)
        || grid.width > u64::from(MAX_COLUMNS)
        || cells > MAX_GRID_CELLS
    {
        return Err(format!(
            "sheet `{}` reaches row {}, column {} ({} × {} = {cells} cells, more than the {MAX_GRID_CELLS} an .ods sheet may span, counting repeated rows and columns): delete the cells far from the table, or save the file as .xlsx or CSV, which are read cell by cell",
            grid.name, grid.far.0, grid.far.1, grid.height, grid.width
        ));
    }
    Ok(())
}

/// A repeat count attribute (1 when absent or unreadable).
fn repeats(e: &BytesStart<'_>, name: &[u8]) -> u64 {
    attribute(e, name)
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(1)
        .max(1)
}

fn attribute(e: &BytesStart<'_>, name: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name)
        .map(|a| String::from_utf8_lossy(&a.value).into_owned())
}
