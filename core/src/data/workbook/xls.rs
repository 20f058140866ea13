//! The structure and extent of an `.xls` file, checked before calamine
//! reads it. calamine opens an `.xls` whole: it follows the compound file's
//! sector chains until their end marker (a cycle never ends), reserves what
//! the header and directory declare, then builds each sheet as one grid
//! from its first to its last cell (cells at row 65,536, column 65,536 make
//! a 4-billion-cell grid). This walk mirrors those steps on the file's
//! bytes and refuses, naming the file, what would hang or exhaust memory.

use std::collections::HashSet;

use super::extent::MAX_GRID_CELLS;

/// End of a sector chain.
const END_OF_CHAIN: u32 = 0xFFFF_FFFE;
/// Sector ids from here on are markers, not sectors.
const RESERVED: u32 = 0xFFFF_FFFA;
/// FAT sectors listed in the DIFAT are below this.
const DIFAT_SECTOR: u32 = 0xFFFF_FFFC;

fn u16_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from(u16::from_le_bytes(
        bytes.get(at..at + 2)?.try_into().ok()?,
    )))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// The sectors of a compound file (or of its mini stream).
struct Sectors<'a> {
    data: &'a [u8],
    size: usize,
    maxid: u32,
}

impl Sectors<'_> {
    /// A sector as calamine reads it: what the file has of it.
    fn get(&self, id: u32) -> Result<&[u8], Damage> {
        if id > self.maxid {
            return Err(Damage::Other);
        }
        let start = (id as usize).saturating_mul(self.size);
        let end = start.saturating_add(self.size).min(self.data.len());
        Ok(self.data.get(start..end).unwrap_or_default())
    }

    /// The bytes of the chain from `start`, as long as `declared` says
    /// (calamine reserves that much first).
    fn chain(&self, start: u32, fats: &[u32], declared: usize) -> Result<Vec<u8>, Damage> {
        if declared > self.data.len().saturating_mul(8).max(1 << 16) {
            return Err(Damage::Declared(declared));
        }
        let mut bytes = Vec::new();
        let mut seen = HashSet::new();
        let mut id = start;
        while id != END_OF_CHAIN {
            if !seen.insert(id) {
                return Err(Damage::Cycle(id));
            }
            bytes.extend_from_slice(self.get(id)?);
            id = *fats.get(id as usize).ok_or(Damage::Other)?;
        }
        if declared > 0 {
            bytes.truncate(declared);
        }
        Ok(bytes)
    }
}

/// What is wrong with the file.
enum Damage {
    /// A chain comes back to a sector: reading it would never end.
    Cycle(u32),
    /// A size far larger than the file.
    Declared(usize),
    /// A sheet's grid from its first to its last cell.
    Grid {
        sheet: usize,
        rows: u64,
        columns: u64,
    },
    /// Something calamine reports itself.
    Other,
}

/// Checks the `.xls` file held in `bytes`; the message says what is wrong
/// and what to do.
pub(crate) fn check_xls(bytes: &[u8]) -> Result<(), String> {
    let advice = "open and save it again, or save it as .xlsx or CSV";
    match walk(bytes) {
        Ok(()) | Err(Damage::Other) => Ok(()),
        Err(Damage::Cycle(id)) => Err(format!(
            "the file is damaged: a chain of its sectors comes back to sector {id}, so reading it would never end; {advice}"
        )),
        Err(Damage::Declared(size)) => Err(format!(
            "the file is damaged: it declares a part of {size} bytes, larger than the file; {advice}"
        )),
        Err(Damage::Grid {
            sheet,
            rows,
            columns,
        }) => Err(format!(
            "sheet {} spans {rows} rows × {columns} columns from its first to its last cell ({} cells, more than the {MAX_GRID_CELLS} an .xls sheet may span): delete the cells far from the table, or {advice}",
            sheet + 1,
            rows.saturating_mul(columns)
        )),
    }
}

fn walk(bytes: &[u8]) -> Result<(), Damage> {
    let header = bytes.get(..512).ok_or(Damage::Other)?;
    if header[..8] != [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1] {
        return Err(Damage::Other);
    }
    let size: usize = match u16_at(header, 30) {
        Some(9) => 512,
        Some(12) => 4096,
        _ => return Err(Damage::Other),
    };
    let data = bytes.get(size..).ok_or(Damage::Other)?;
    let sectors = Sectors {
        data,
        size,
        maxid: u32::try_from(bytes.len() / size).unwrap_or(u32::MAX),
    };
    let field = |at| u32_at(header, at).map(|v| v as usize).ok_or(Damage::Other);
    let (dir_len, fat_len, mini_fat_len) = (field(40)?, field(44)?, field(64)?);
    let (dir_start, mini_fat_start, difat_start) = (
        u32_at(header, 48).ok_or(Damage::Other)?,
        u32_at(header, 60).ok_or(Damage::Other)?,
        u32_at(header, 68).ok_or(Damage::Other)?,
    );
    for declared in [
        fat_len.saturating_mul(4),
        dir_len.saturating_mul(size),
        mini_fat_len.saturating_mul(size),
    ] {
        if declared > bytes.len().saturating_mul(8).max(1 << 16) {
            return Err(Damage::Declared(declared));
        }
    }
    // The DIFAT: the header's entries, then a chain of DIFAT sectors whose
    // last entry names the next.
    let mut difat: Vec<u32> = (0..109)
        .filter_map(|i| u32_at(header, 76 + 4 * i))
        .collect();
    let mut seen = HashSet::new();
    let mut id = difat_start;
    while id < RESERVED {
        if !seen.insert(id) {
            return Err(Damage::Cycle(id));
        }
        let sector = sectors.get(id)?;
        difat.extend(sector.chunks_exact(4).filter_map(|c| u32_at(c, 0)));
        id = difat.pop().ok_or(Damage::Other)?;
    }
    let mut fats: Vec<u32> = Vec::new();
    for id in difat.into_iter().filter(|id| *id < DIFAT_SECTOR) {
        fats.extend(
            sectors
                .get(id)?
                .chunks_exact(4)
                .filter_map(|c| u32_at(c, 0)),
        );
    }
    let directory = sectors.chain(dir_start, &fats, dir_len.saturating_mul(size))?;
    // (name, start, length) of each entry.
    let entries: Vec<(Vec<u16>, u32, usize)> = directory
        .chunks(128)
        .map(|entry| {
            let name: Vec<u16> = entry
                .get(..64)
                .unwrap_or_default()
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .take_while(|&c| c != 0)
                .collect();
            let start = u32_at(entry, 116).unwrap_or(END_OF_CHAIN);
            let len = if size == 512 {
                u32_at(entry, 120).map_or(0, |l| l as usize)
            } else {
                entry
                    .get(120..128)
                    .and_then(|b| b.try_into().ok())
                    .map_or(usize::MAX, |b| {
                        usize::try_from(u64::from_le_bytes(b)).unwrap_or(usize::MAX)
                    })
            };
            (name, start, len)
        })
        .collect();
    let root = entries.first().ok_or(Damage::Other)?;
    let (mini_fats, mini_stream) = if mini_fat_len > 0 {
        let stream = sectors.chain(root.1, &fats, root.2)?;
        let fat = sectors.chain(mini_fat_start, &fats, mini_fat_len.saturating_mul(size))?;
        (
            fat.chunks_exact(4).filter_map(|c| u32_at(c, 0)).collect(),
            stream,
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let named = |name: &str| {
        let wanted: Vec<u16> = name.encode_utf16().collect();
        entries.iter().find(|(n, ..)| *n == wanted)
    };
    let (_, start, len) = named("Workbook")
        .or_else(|| named("Book"))
        .ok_or(Damage::Other)?;
    let stream = if *len < 4096 {
        let mini = Sectors {
            data: &mini_stream,
            size: 64,
            maxid: sectors.maxid.saturating_mul(8),
        };
        mini.chain(*start, &mini_fats, *len)?
    } else {
        sectors.chain(*start, &fats, *len)?
    };
    sheets(&stream)
}

/// The records of a BIFF stream from its start: `(type, data)`, each
/// followed by its `Continue` records (skipped, as calamine merges them).
fn records(stream: &[u8]) -> impl Iterator<Item = (u32, &[u8])> {
    let mut rest = stream;
    std::iter::from_fn(move || {
        let kind = u16_at(rest, 0)?;
        let len = u16_at(rest, 2)? as usize;
        let data = rest.get(4..4 + len)?;
        rest = &rest[4 + len..];
        Some((kind, data))
    })
}

/// Each sheet's grid, as calamine would reserve and build it.
fn sheets(stream: &[u8]) -> Result<(), Damage> {
    let mut positions = Vec::new();
    for (kind, data) in records(stream) {
        match kind {
            0x0085 => positions.push(u32_at(data, 0).ok_or(Damage::Other)? as usize),
            0x000A => break,
            _ => {}
        }
    }
    for (sheet, position) in positions.into_iter().enumerate() {
        let Some(records_of_sheet) = stream.get(position..) else {
            continue;
        };
        let (mut first, mut last): (Option<(u32, u32)>, (u32, u32)) = (None, (0, 0));
        let mut cell = |row: u32, column: u32| {
            let (r0, c0) = first.unwrap_or((row, column));
            first = Some((r0.min(row), c0.min(column)));
            last = (last.0.max(row), last.1.max(column));
        };
        for (kind, data) in records(records_of_sheet) {
            match kind {
                0x0200 => {
                    // Dimensions: calamine reserves rows × columns cells.
                    let (rf, rl, cf, cl) = if data.len() == 14 {
                        (
                            u32_at(data, 0),
                            u32_at(data, 4),
                            u16_at(data, 8),
                            u16_at(data, 10),
                        )
                    } else if data.len() == 10 {
                        (
                            u16_at(data, 0),
                            u16_at(data, 2),
                            u16_at(data, 4),
                            u16_at(data, 6),
                        )
                    } else {
                        return Err(Damage::Other);
                    };
                    let (Some(rf), Some(rl), Some(mut cf), Some(cl)) = (rf, rl, cf, cl) else {
                        return Err(Damage::Other);
                    };
                    if cf > 0xFF || cl < cf {
                        cf = 0;
                    }
                    if rl >= 1 && cl >= 1 {
                        let rows = u64::from((rl - 1).wrapping_sub(rf).wrapping_add(1));
                        let columns = u64::from((cl - 1).wrapping_sub(cf).wrapping_add(1));
                        if rows.saturating_mul(columns) > MAX_GRID_CELLS {
                            return Err(Damage::Grid {
                                sheet,
                                rows,
                                columns,
                            });
                        }
                    }
                }
                0x0203 | 0x0204 | 0x0205 | 0x027E | 0x00FD | 0x0006 => {
                    if let (Some(row), Some(column)) = (u16_at(data, 0), u16_at(data, 2)) {
                        cell(row, column);
                    }
                }
                0x00BD => {
                    if let (Some(row), Some(column), Some(end)) = (
                        u16_at(data, 0),
                        u16_at(data, 2),
                        data.len().checked_sub(2).and_then(|at| u16_at(data, at)),
                    ) {
                        cell(row, column);
                        cell(row, end.max(column));
                    }
                }
                0x000A => break,
                _ => {}
            }
        }
        if let Some((r0, c0)) = first {
            let rows = u64::from(last.0 - r0) + 1;
            let columns = u64::from(last.1 - c0) + 1;
            if rows.saturating_mul(columns) > MAX_GRID_CELLS {
                return Err(Damage::Grid {
                    sheet,
                    rows,
                    columns,
                });
            }
        }
    }
    Ok(())
}
