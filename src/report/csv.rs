//! `--format csv`: one record per entity × indicator, exact decimals.

use std::io::{self, Write};

use super::{Sheet, exact_or_none};

pub(super) fn write(sheet: &Sheet<'_>, out: &mut dyn Write) -> io::Result<()> {
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record(sheet.columns())?;
    for r in sheet.records() {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        let count = |v: Option<usize>| v.map(|n| n.to_string()).unwrap_or_default();
        let mut fields = vec![r.row.entity.clone()];
        if sheet.has_period {
            fields.push(r.row.period.clone().unwrap_or_default());
        }
        fields.extend([
            r.indicator.id.clone(),
            text(&r.value),
            r.indicator.unit.as_str().to_owned(),
            text(&r.standard),
            text(&r.compliance),
            r.band.unwrap_or_default().to_owned(),
            r.error
                .as_ref()
                .map(|(_, message)| message.clone())
                .unwrap_or_default(),
        ]);
        if sheet.has_period {
            fields.extend(
                [r.previous, r.variation, r.variation_pct]
                    .map(|v| exact_or_none(v).unwrap_or_default()),
            );
        }
        if sheet.has_peers {
            fields.extend([
                r.row.peer_group.clone().unwrap_or_default(),
                count(r.peer_size),
                exact_or_none(r.peer_mean).unwrap_or_default(),
                exact_or_none(r.peer_median).unwrap_or_default(),
                exact_or_none(r.from_peer_mean).unwrap_or_default(),
                exact_or_none(r.from_peer_median).unwrap_or_default(),
                count(r.peer_rank),
            ]);
        }
        csv.write_record(&fields)?;
    }
    csv.flush()
}
