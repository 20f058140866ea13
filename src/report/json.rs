//! `--format json`: an array of objects, decimals as JSON strings holding
//! the exact value, `null` where absent. Errors are `{ "kind", "message" }`.
//! Optional keys, as in CSV: `level` (packs with grain indicators),
//! `flags`, `previous`/`variation`/`variation_pct` (data with periods),
//! `peer_group`, `peer_size`, `peer_mean`, `peer_median`, `from_peer_mean`,
//! `from_peer_median`, `peer_rank` (packs with a peer group), `rank` and
//! `selected` (packs with a matrix).

use std::io::{self, Write};

use serde::Serialize;

use super::{Sheet, exact_or_none};

/// One entity × indicator, keys in the documented order.
#[derive(Serialize)]
struct JsonCell<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    level: Option<&'a str>,
    entity: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    period: Option<Option<&'a str>>,
    indicator: &'a str,
    value: Option<String>,
    unit: &'static str,
    standard: Option<String>,
    compliance: Option<String>,
    band: Option<&'a str>,
    error: Option<JsonError>,
    #[serde(skip_serializing_if = "Option::is_none")]
    flags: Option<&'a [String]>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    variation: Option<JsonVariation>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    peers: Option<JsonPeers<'a>>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    selection: Option<JsonSelection>,
}

#[derive(Serialize)]
struct JsonError {
    kind: &'static str,
    message: String,
}

#[derive(Serialize)]
struct JsonVariation {
    previous: Option<String>,
    variation: Option<String>,
    variation_pct: Option<String>,
}

#[derive(Serialize)]
struct JsonPeers<'a> {
    peer_group: Option<&'a str>,
    peer_size: Option<usize>,
    peer_mean: Option<String>,
    peer_median: Option<String>,
    from_peer_mean: Option<String>,
    from_peer_median: Option<String>,
    peer_rank: Option<usize>,
}

#[derive(Serialize)]
struct JsonSelection {
    rank: Option<usize>,
    selected: Option<bool>,
}

pub(super) fn write(sheet: &Sheet<'_>, out: &mut dyn Write) -> io::Result<()> {
    let array: Vec<JsonCell<'_>> = sheet
        .records()
        .map(|r| JsonCell {
            level: sheet.has_levels.then_some(r.level),
            entity: r.entity,
            period: sheet.has_period.then_some(r.period),
            indicator: &r.indicator.id,
            value: r.value,
            unit: r.indicator.unit.as_str(),
            standard: r.standard,
            compliance: r.compliance,
            band: r.band,
            error: r.error.map(|(kind, message)| JsonError { kind, message }),
            flags: sheet.has_flags.then_some(r.cell.flags.as_slice()),
            variation: sheet.has_period.then_some(JsonVariation {
                previous: exact_or_none(r.previous),
                variation: exact_or_none(r.variation),
                variation_pct: exact_or_none(r.variation_pct),
            }),
            peers: sheet.has_peers.then_some(JsonPeers {
                peer_group: r.peer_group,
                peer_size: r.peer_size,
                peer_mean: exact_or_none(r.peer_mean),
                peer_median: exact_or_none(r.peer_median),
                from_peer_mean: exact_or_none(r.from_peer_mean),
                from_peer_median: exact_or_none(r.from_peer_median),
                peer_rank: r.peer_rank,
            }),
            selection: sheet.has_matrices.then_some(JsonSelection {
                rank: r.rank,
                selected: r.selected,
            }),
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &array)?;
    writeln!(out)
}
