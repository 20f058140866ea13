//! The cooperative balances generator shared by `examples/generate_balances.rs`
//! and the benchmarks (included with `#[path]`): see the example's docs for
//! what the file holds.

use std::collections::BTreeMap;
use std::error::Error;
use std::fmt::Write as _;
use std::io::{BufWriter, Write};

/// The chart of accounts: every code reported, with its name, in output
/// order. A code's parent is the longest other code that prefixes it.
/// Codes without children here are leaves: the generator sets those, and
/// every parent is the sum of its children.
#[rustfmt::skip]
const CHART: &[(&str, &str)] = &[
    ("1", "ACTIVO"),
    ("11", "FONDOS DISPONIBLES"),
    ("1101", "Caja"),
    ("110105", "Efectivo"),
    ("110110", "Caja chica"),
    ("1102", "Depósitos para encaje"),
    ("110205", "Banco Central del Ecuador"),
    ("1103", "Bancos y otras instituciones financieras"),
    ("110305", "Banco Central del Ecuador"),
    ("110310", "Bancos e instituciones financieras locales"),
    ("110315", "Bancos e instituciones financieras del exterior"),
    ("1104", "Efectos de cobro inmediato"),
    ("1105", "Remesas en tránsito"),
    ("110505", "Del país"),
    ("110510", "Del exterior"),
    ("13", "INVERSIONES"),
    ("1301", "A valor razonable con cambios en el estado de resultados de entidades del sector privado"),
    ("130105", "De 1 a 30 días"),
    ("130110", "De 31 a 90 días"),
    ("130115", "De 91 a 180 días"),
    ("1302", "A valor razonable con cambios en el estado de resultados del Estado o de entidades del sector público"),
    ("130205", "De 1 a 30 días"),
    ("130210", "De 31 a 90 días"),
    ("1303", "Disponibles para la venta de entidades del sector privado"),
    ("130305", "De 1 a 30 días"),
    ("130310", "De 31 a 90 días"),
    ("130315", "De 91 a 180 días"),
    ("130320", "De 181 a 360 días"),
    ("1304", "Disponibles para la venta del Estado o de entidades del sector público"),
    ("130405", "De 1 a 30 días"),
    ("130410", "De 31 a 90 días"),
    ("1305", "Mantenidas hasta su vencimiento de entidades del sector privado"),
    ("130505", "De 1 a 30 días"),
    ("130510", "De 31 a 90 días"),
    ("130515", "De 91 a 180 días"),
    ("130520", "De 181 a 360 días"),
    ("1399", "(Provisión para inversiones)"),
    ("139905", "(Provisión general para inversiones)"),
    ("14", "CARTERA DE CRÉDITOS"),
    ("1401", "Cartera de créditos comercial por vencer"),
    ("140105", "De 1 a 30 días"),
    ("140110", "De 31 a 90 días"),
    ("140115", "De 91 a 180 días"),
    ("140120", "De 181 a 360 días"),
    ("140125", "De más de 360 días"),
    ("1402", "Cartera de créditos de consumo por vencer"),
    ("140205", "De 1 a 30 días"),
    ("140210", "De 31 a 90 días"),
    ("140215", "De 91 a 180 días"),
    ("140220", "De 181 a 360 días"),
    ("140225", "De más de 360 días"),
    ("1403", "Cartera de créditos de vivienda por vencer"),
    ("140305", "De 1 a 30 días"),
    ("140310", "De 31 a 90 días"),
    ("140315", "De 91 a 180 días"),
    ("140320", "De 181 a 360 días"),
    ("140325", "De más de 360 días"),
    ("1404", "Cartera de créditos para la microempresa por vencer"),
    ("140405", "De 1 a 30 días"),
    ("140410", "De 31 a 90 días"),
    ("140415", "De 91 a 180 días"),
    ("140420", "De 181 a 360 días"),
    ("140425", "De más de 360 días"),
    ("1411", "Cartera de créditos comercial que no devenga intereses"),
    ("141105", "De 1 a 30 días"),
    ("141110", "De 31 a 90 días"),
    ("141115", "De 91 a 180 días"),
    ("141120", "De 181 a 360 días"),
    ("141125", "De más de 360 días"),
    ("1412", "Cartera de créditos de consumo que no devenga intereses"),
    ("141205", "De 1 a 30 días"),
    ("141210", "De 31 a 90 días"),
    ("141215", "De 91 a 180 días"),
    ("141220", "De 181 a 360 días"),
    ("141225", "De más de 360 días"),
    ("1413", "Cartera de créditos de vivienda que no devenga intereses"),
    ("141305", "De 1 a 30 días"),
    ("141310", "De 31 a 90 días"),
    ("141315", "De 91 a 180 días"),
    ("141320", "De 181 a 360 días"),
    ("141325", "De más de 360 días"),
    ("1414", "Cartera de créditos para la microempresa que no devenga intereses"),
    ("141405", "De 1 a 30 días"),
    ("141410", "De 31 a 90 días"),
    ("141415", "De 91 a 180 días"),
    ("141420", "De 181 a 360 días"),
    ("141425", "De más de 360 días"),
    ("1421", "Cartera de créditos comercial vencida"),
    ("142105", "De 1 a 30 días"),
    ("142110", "De 31 a 90 días"),
    ("142115", "De 91 a 180 días"),
    ("142120", "De 181 a 360 días"),
    ("142125", "De más de 360 días"),
    ("1422", "Cartera de créditos de consumo vencida"),
    ("142205", "De 1 a 30 días"),
    ("142210", "De 31 a 90 días"),
    ("142215", "De 91 a 180 días"),
    ("142220", "De 181 a 360 días"),
    ("142225", "De más de 360 días"),
    ("1423", "Cartera de créditos de vivienda vencida"),
    ("142305", "De 1 a 30 días"),
    ("142310", "De 31 a 90 días"),
    ("142315", "De 91 a 180 días"),
    ("142320", "De 181 a 360 días"),
    ("142325", "De más de 360 días"),
    ("1424", "Cartera de créditos para la microempresa vencida"),
    ("142405", "De 1 a 30 días"),
    ("142410", "De 31 a 90 días"),
    ("142415", "De 91 a 180 días"),
    ("142420", "De 181 a 360 días"),
    ("142425", "De más de 360 días"),
    ("1426", "Cartera de créditos de consumo reestructurada vencida"),
    ("142605", "De 1 a 30 días"),
    ("142610", "De 31 a 90 días"),
    ("142615", "De 91 a 180 días"),
    ("142620", "De 181 a 360 días"),
    ("142625", "De más de 360 días"),
    ("1427", "Cartera de créditos de vivienda reestructurada vencida"),
    ("142705", "De 1 a 30 días"),
    ("142710", "De 31 a 90 días"),
    ("142715", "De 91 a 180 días"),
    ("142720", "De 181 a 360 días"),
    ("142725", "De más de 360 días"),
    ("1428", "Cartera de créditos para la microempresa reestructurada vencida"),
    ("142805", "De 1 a 30 días"),
    ("142810", "De 31 a 90 días"),
    ("142815", "De 91 a 180 días"),
    ("142820", "De 181 a 360 días"),
    ("142825", "De más de 360 días"),
    ("1499", "(Provisiones para créditos incobrables)"),
    ("149905", "(Cartera de créditos comercial)"),
    ("149910", "(Cartera de créditos de consumo)"),
    ("149915", "(Cartera de créditos de vivienda)"),
    ("149920", "(Cartera de créditos para la microempresa)"),
    ("149925", "(Cartera de créditos reestructurada)"),
    ("149930", "(Provisión genérica)"),
    ("16", "CUENTAS POR COBRAR"),
    ("1602", "Intereses por cobrar de inversiones"),
    ("160205", "A valor razonable con cambios en el estado de resultados"),
    ("160210", "Disponibles para la venta"),
    ("160215", "Mantenidas hasta el vencimiento"),
    ("1603", "Intereses por cobrar de cartera de créditos"),
    ("160305", "Cartera de créditos comercial"),
    ("160310", "Cartera de créditos de consumo"),
    ("160315", "Cartera de créditos de vivienda"),
    ("160320", "Cartera de créditos para la microempresa"),
    ("1690", "Cuentas por cobrar varias"),
    ("169005", "Anticipos al personal"),
    ("169090", "Otras"),
    ("1699", "(Provisión para cuentas por cobrar)"),
    ("169910", "(Provisión para otras cuentas por cobrar)"),
    ("17", "BIENES REALIZABLES, ADJUDICADOS POR PAGO, DE ARRENDAMIENTO MERCANTIL Y NO UTILIZADOS POR LA INSTITUCIÓN"),
    ("1702", "Bienes adjudicados por pago"),
    ("170205", "Terrenos"),
    ("170210", "Edificios y otros locales"),
    ("1799", "(Provisión para bienes realizables, adjudicados por pago y recuperados)"),
    ("179910", "(Provisión para bienes adjudicados)"),
    ("18", "PROPIEDADES Y EQUIPO"),
    ("1801", "Terrenos"),
    ("1802", "Edificios"),
    ("1805", "Muebles, enseres y equipos de oficina"),
    ("1806", "Equipos de computación"),
    ("1807", "Unidades de transporte"),
    ("1899", "(Depreciación acumulada)"),
    ("189905", "(Edificios)"),
    ("189915", "(Muebles, enseres y equipos de oficina)"),
    ("189920", "(Equipos de computación)"),
    ("189925", "(Unidades de transporte)"),
    ("19", "OTROS ACTIVOS"),
    ("1901", "Inversiones en acciones y participaciones"),
    ("190110", "En compañías"),
    ("190125", "En otros organismos de integración cooperativa"),
    ("1902", "Derechos fiduciarios"),
    ("190205", "Inversiones"),
    ("190210", "Cartera de créditos por vencer"),
    ("190225", "Cartera de créditos que no devenga intereses"),
    ("190240", "Cuentas por cobrar"),
    ("1904", "Gastos y pagos anticipados"),
    ("190410", "Anticipos a terceros"),
    ("190490", "Otros"),
    ("1905", "Gastos diferidos"),
    ("190520", "Programas de computación"),
    ("190530", "Adecuaciones"),
    ("1906", "Materiales, mercaderías e insumos"),
    ("190615", "Proveeduría"),
    ("1990", "Otros"),
    ("199005", "Impuesto al valor agregado - IVA"),
    ("199090", "Varias"),
    ("1999", "(Provisión para otros activos irrecuperables)"),
    ("199990", "(Provisión para otros activos)"),
    ("2", "PASIVOS"),
    ("21", "OBLIGACIONES CON EL PÚBLICO"),
    ("2101", "Depósitos a la vista"),
    ("210135", "Depósitos de ahorro"),
    ("210140", "Otros depósitos"),
    ("210150", "Depósitos por confirmar"),
    ("2103", "Depósitos a plazo"),
    ("210305", "De 1 a 30 días"),
    ("210310", "De 31 a 90 días"),
    ("210315", "De 91 a 180 días"),
    ("210320", "De 181 a 360 días"),
    ("210325", "De más de 361 días"),
    ("2105", "Depósitos restringidos"),
    ("23", "OBLIGACIONES INMEDIATAS"),
    ("2302", "Giros, transferencias y cobranzas por pagar"),
    ("2390", "Otras obligaciones inmediatas"),
    ("25", "CUENTAS POR PAGAR"),
    ("2501", "Intereses por pagar"),
    ("250105", "Depósitos a la vista"),
    ("250115", "Depósitos a plazo"),
    ("250135", "Obligaciones financieras"),
    ("2503", "Obligaciones patronales"),
    ("250305", "Remuneraciones"),
    ("250310", "Beneficios sociales"),
    ("250315", "Aportes al IESS"),
    ("250325", "Participación a empleados"),
    ("2504", "Retenciones"),
    ("250405", "Retenciones fiscales"),
    ("250490", "Otras retenciones"),
    ("2505", "Contribuciones, impuestos y multas"),
    ("250505", "Impuesto a la renta"),
    ("250590", "Otras contribuciones e impuestos"),
    ("2506", "Proveedores"),
    ("2590", "Cuentas por pagar varias"),
    ("259005", "Cheques girados no cobrados"),
    ("259090", "Otras cuentas por pagar"),
    ("26", "OBLIGACIONES FINANCIERAS"),
    ("2602", "Obligaciones con instituciones financieras del país"),
    ("260205", "De 1 a 30 días"),
    ("260210", "De 31 a 90 días"),
    ("260215", "De 91 a 180 días"),
    ("260220", "De 181 a 360 días"),
    ("260225", "De más de 360 días"),
    ("2606", "Obligaciones con entidades financieras del sector público"),
    ("260615", "De 91 a 180 días"),
    ("260620", "De 181 a 360 días"),
    ("260625", "De más de 360 días"),
    ("2607", "Obligaciones con organismos multilaterales"),
    ("260720", "De 181 a 360 días"),
    ("260725", "De más de 360 días"),
    ("29", "OTROS PASIVOS"),
    ("2901", "Ingresos recibidos por anticipado"),
    ("290105", "Intereses recibidos por anticipado"),
    ("2902", "Consignación para pago de obligaciones"),
    ("2990", "Otros"),
    ("299005", "Sobrantes de caja"),
    ("299090", "Varios"),
    ("3", "PATRIMONIO"),
    ("31", "CAPITAL SOCIAL"),
    ("3103", "Aportes de socios"),
    ("33", "RESERVAS"),
    ("3301", "Fondo irrepartible de reserva legal"),
    ("330105", "Reserva legal"),
    ("3303", "Especiales"),
    ("330305", "A disposición de la asamblea general de socios"),
    ("330310", "Para futuras capitalizaciones"),
    ("3305", "Revalorización del patrimonio"),
    ("34", "OTROS APORTES PATRIMONIALES"),
    ("3402", "Donaciones"),
    ("340210", "En efectivo"),
    ("35", "SUPERÁVIT POR VALUACIONES"),
    ("3501", "Superávit por valuación de propiedades, equipo y otros"),
    ("36", "RESULTADOS"),
    ("3603", "Utilidad o excedente del ejercicio"),
    ("4", "GASTOS"),
    ("41", "INTERESES CAUSADOS"),
    ("4101", "Obligaciones con el público"),
    ("410115", "Depósitos de ahorro"),
    ("410130", "Depósitos a plazo"),
    ("410135", "Depósitos restringidos"),
    ("4103", "Obligaciones financieras"),
    ("410320", "Obligaciones con instituciones financieras del país"),
    ("410335", "Obligaciones con entidades financieras del sector público"),
    ("410345", "Obligaciones con organismos multilaterales"),
    ("42", "COMISIONES CAUSADAS"),
    ("4201", "Obligaciones financieras"),
    ("4203", "Cobranzas"),
    ("4290", "Varias"),
    ("44", "PROVISIONES"),
    ("4401", "Inversiones"),
    ("4402", "Cartera de créditos"),
    ("4403", "Cuentas por cobrar"),
    ("4404", "Bienes realizables, adjudicados por pago"),
    ("4405", "Otros activos"),
    ("45", "GASTOS DE OPERACIÓN"),
    ("4501", "Gastos de personal"),
    ("450105", "Remuneraciones mensuales"),
    ("450110", "Beneficios sociales"),
    ("450120", "Aportes al IESS"),
    ("450135", "Fondo de reserva IESS"),
    ("450190", "Otros"),
    ("4502", "Honorarios"),
    ("450205", "Directores"),
    ("450210", "Honorarios profesionales"),
    ("4503", "Servicios varios"),
    ("450305", "Movilizaciones, fletes y embalajes"),
    ("450310", "Servicios de guardianía"),
    ("450315", "Publicidad y propaganda"),
    ("450320", "Servicios básicos"),
    ("450325", "Seguros"),
    ("450330", "Arrendamientos"),
    ("450390", "Otros servicios"),
    ("4504", "Impuestos, contribuciones y multas"),
    ("450405", "Impuestos fiscales"),
    ("450410", "Impuestos municipales"),
    ("450415", "Aportes al organismo de control"),
    ("450430", "Multas y otras sanciones"),
    ("4505", "Depreciaciones"),
    ("450515", "Edificios"),
    ("450525", "Muebles, enseres y equipos de oficina"),
    ("450530", "Equipos de computación"),
    ("450535", "Unidades de transporte"),
    ("4506", "Amortizaciones"),
    ("450625", "Programas de computación"),
    ("450690", "Otros"),
    ("4507", "Otros gastos"),
    ("450705", "Suministros diversos"),
    ("450715", "Mantenimiento y reparaciones"),
    ("450790", "Otros"),
    ("46", "OTRAS PÉRDIDAS OPERACIONALES"),
    ("4690", "Otras"),
    ("47", "OTROS GASTOS Y PÉRDIDAS"),
    ("4701", "Pérdida en venta de bienes realizables y recuperados"),
    ("4703", "Intereses y comisiones devengados en ejercicios anteriores"),
    ("4790", "Otros"),
    ("48", "IMPUESTOS Y PARTICIPACIÓN A EMPLEADOS"),
    ("4810", "Participación a empleados"),
    ("4815", "Impuesto a la renta"),
    ("5", "INGRESOS"),
    ("51", "INTERESES Y DESCUENTOS GANADOS"),
    ("5101", "Depósitos"),
    ("510110", "Depósitos en bancos e instituciones financieras"),
    ("5103", "Intereses y descuentos de inversiones en títulos valores"),
    ("510305", "A valor razonable con cambios en el estado de resultados"),
    ("510310", "Disponibles para la venta"),
    ("510315", "Mantenidas hasta el vencimiento"),
    ("5104", "Intereses y descuentos de cartera de créditos"),
    ("510405", "Cartera de créditos comercial"),
    ("510410", "Cartera de créditos de consumo"),
    ("510415", "Cartera de créditos de vivienda"),
    ("510420", "Cartera de créditos para la microempresa"),
    ("510430", "De mora"),
    ("52", "COMISIONES GANADAS"),
    ("5201", "Cartera de créditos"),
    ("5290", "Otras"),
    ("54", "INGRESOS POR SERVICIOS"),
    ("5490", "Otros servicios"),
    ("55", "OTROS INGRESOS OPERACIONALES"),
    ("5503", "Dividendos o excedentes por certificados de aportación"),
    ("5590", "Otros"),
    ("56", "OTROS INGRESOS"),
    ("5601", "Utilidad en venta de bienes realizables y recuperados"),
    ("5603", "Arrendamientos"),
    ("5604", "Recuperaciones de activos financieros"),
    ("560405", "De activos castigados"),
    ("560420", "Intereses y comisiones de ejercicios anteriores"),
    ("5690", "Otros"),
    ("6", "CUENTAS CONTINGENTES"),
    ("64", "ACREEDORAS"),
    ("6404", "Créditos aprobados no desembolsados"),
    ("640405", "Cartera comercial"),
    ("640410", "Cartera de consumo"),
    ("640415", "Cartera de vivienda"),
    ("640420", "Cartera para la microempresa"),
    ("6490", "Otras cuentas contingentes acreedoras"),
    ("7", "CUENTAS DE ORDEN"),
    ("71", "CUENTAS DE ORDEN DEUDORAS"),
    ("7102", "Activos propios en poder de terceros entregados en garantía"),
    ("710205", "Inversiones"),
    ("710210", "Cartera de créditos"),
    ("7103", "Activos castigados"),
    ("710305", "Cartera de créditos"),
    ("710310", "Otros activos"),
    ("7107", "Cartera de créditos y otros activos en demanda judicial"),
    ("710705", "Cartera de créditos"),
    ("7109", "Intereses, comisiones e ingresos en suspenso"),
    ("710905", "Cartera de créditos comercial"),
    ("710910", "Cartera de créditos de consumo"),
    ("710915", "Cartera de créditos de vivienda"),
    ("710920", "Cartera de créditos para la microempresa"),
    ("7190", "Otras cuentas de orden deudoras"),
    ("719090", "Otras"),
    ("74", "CUENTAS DE ORDEN ACREEDORAS"),
    ("7401", "Valores y bienes recibidos de terceros"),
    ("740105", "En custodia"),
    ("7414", "Provisiones constituidas"),
    ("741405", "Cartera de créditos castigada"),
    ("7490", "Otras cuentas de orden acreedoras"),
    ("749090", "Otras"),
];

/// Peer groups by initial total assets (US$), largest first.
const GROUPS: &[(f64, &str)] = &[
    (100_000_000.0, "grandes"),
    (20_000_000.0, "medianas"),
    (5_000_000.0, "pequeñas"),
    (0.0, "muy pequeñas"),
];

/// The four loan products, in account order (1401..1404, 1411..1414, …).
const PRODUCTS: usize = 4;

/// The chart, indexed: parents of each code and which codes are leaves.
struct Chart {
    index: BTreeMap<&'static str, usize>,
    /// For each code, the indices of its ancestors (nearest first).
    ancestors: Vec<Vec<usize>>,
    leaf: Vec<bool>,
}

impl Chart {
    fn new() -> Result<Self, Box<dyn Error>> {
        let mut index = BTreeMap::new();
        for (i, (code, _)) in CHART.iter().enumerate() {
            if index.insert(*code, i).is_some() {
                return Err(format!("the chart repeats code {code}").into());
            }
        }
        let mut ancestors = Vec::with_capacity(CHART.len());
        let mut leaf = vec![true; CHART.len()];
        for (code, _) in CHART {
            let mut chain = Vec::new();
            for len in (1..code.len()).rev() {
                if let Some(&parent) = code.get(..len).and_then(|p| index.get(p)) {
                    chain.push(parent);
                    if let Some(slot) = leaf.get_mut(parent) {
                        *slot = false;
                    }
                }
            }
            if code.len() > 1 && chain.is_empty() {
                return Err(format!("code {code} has no parent in the chart").into());
            }
            ancestors.push(chain);
        }
        Ok(Self {
            index,
            ancestors,
            leaf,
        })
    }
}

/// One cooperative × month: the leaves' values in cents, then every parent.
struct Block<'c> {
    chart: &'c Chart,
    cents: Vec<i64>,
    set: Vec<bool>,
}

impl<'c> Block<'c> {
    fn new(chart: &'c Chart) -> Self {
        Self {
            chart,
            cents: vec![0; CHART.len()],
            set: vec![false; CHART.len()],
        }
    }

    fn clear(&mut self) {
        self.cents.fill(0);
        self.set.fill(false);
    }

    fn position(&self, code: &str) -> Result<usize, Box<dyn Error>> {
        match self.chart.index.get(code) {
            Some(&i) if self.chart.leaf.get(i) == Some(&true) => Ok(i),
            Some(_) => Err(format!("{code} is a parent: it is computed, not set").into()),
            None => Err(format!("{code} is not in the chart").into()),
        }
    }

    /// Sets a leaf to an amount in US$, rounded to the cent.
    fn set(&mut self, code: &str, amount: f64) -> Result<i64, Box<dyn Error>> {
        self.set_cents(code, to_cents(amount))
    }

    fn set_cents(&mut self, code: &str, cents: i64) -> Result<i64, Box<dyn Error>> {
        let i = self.position(code)?;
        if let (Some(slot), Some(done)) = (self.cents.get_mut(i), self.set.get_mut(i)) {
            *slot = cents;
            *done = true;
        }
        Ok(cents)
    }

    /// Adds cents to a leaf already set.
    fn add_cents(&mut self, code: &str, cents: i64) -> Result<(), Box<dyn Error>> {
        let i = self.position(code)?;
        if let Some(slot) = self.cents.get_mut(i) {
            *slot += cents;
        }
        Ok(())
    }

    /// Splits `total` over the leaves `codes` by `weights`, exactly: the
    /// parts add up to `total` to the cent and keep its sign.
    fn split(
        &mut self,
        total: f64,
        codes: &[&str],
        weights: &[f64],
    ) -> Result<i64, Box<dyn Error>> {
        let total = to_cents(total);
        let sum: f64 = weights.iter().sum();
        let mut cumulative = 0.0;
        let mut previous = 0_i64;
        for (i, code) in codes.iter().enumerate() {
            cumulative += weights.get(i).copied().unwrap_or(0.0);
            let upto = if i + 1 == codes.len() {
                total
            } else if sum > 0.0 {
                to_cents(cents_to_f64(total) * cumulative / sum)
            } else {
                0
            };
            self.set_cents(code, upto - previous)?;
            previous = upto;
        }
        Ok(total)
    }

    /// Checks every leaf was set, then adds each leaf into its ancestors.
    fn roll_up(&mut self) -> Result<(), Box<dyn Error>> {
        for (i, (code, _)) in CHART.iter().enumerate() {
            if self.chart.leaf.get(i) == Some(&true) && self.set.get(i) != Some(&true) {
                return Err(format!("leaf {code} was not generated").into());
            }
        }
        for i in 0..CHART.len() {
            if self.chart.leaf.get(i) != Some(&true) {
                continue;
            }
            let value = self.cents.get(i).copied().unwrap_or(0);
            if let Some(chain) = self.chart.ancestors.get(i) {
                for &parent in chain {
                    if let Some(slot) = self.cents.get_mut(parent) {
                        *slot += value;
                    }
                }
            }
        }
        Ok(())
    }
}

fn to_cents(amount: f64) -> i64 {
    (amount * 100.0).round() as i64
}

fn cents_to_f64(cents: i64) -> f64 {
    cents as f64 / 100.0
}

/// Writes cents as a decimal with 2 places: `-1234` → `-12.34`.
fn format_cents(cents: i64, out: &mut String) {
    out.clear();
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    let _ = write!(out, "{sign}{}.{:02}", abs / 100, abs % 100);
}

/// A uniform draw in `[low, high)`.
fn uniform(rng: &mut fastrand::Rng, low: f64, high: f64) -> f64 {
    low + (high - low) * rng.f64()
}

/// Random positive weights around `base` (±`spread`, relative).
fn jitter(rng: &mut fastrand::Rng, base: &[f64], spread: f64) -> Vec<f64> {
    base.iter()
        .map(|w| w * uniform(rng, 1.0 - spread, 1.0 + spread))
        .collect()
}

/// SplitMix64: independent seeds for each cooperative from one seed.
fn mix(seed: u64, stream: u64) -> u64 {
    let mut z = seed
        .wrapping_add(stream.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// What stays the same for a cooperative from month to month.
struct Profile {
    assets: f64,
    growth: f64,
    group: &'static str,
    /// Gross portfolio over assets.
    portfolio: f64,
    /// Product mix of the gross portfolio (commercial, consumer, housing, micro).
    mix: [f64; PRODUCTS],
    /// Non-performing share of each product's portfolio.
    npl: [f64; PRODUCTS],
    /// Non-accruing share of non-performing (the rest is past due).
    non_accruing: f64,
    /// Restructured past-due share of non-performing (consumer, housing, micro).
    restructured: f64,
    /// Specific provision over non-performing, by product.
    coverage: [f64; PRODUCTS],
    /// General provision over gross portfolio.
    general: f64,
    /// Loan yield by product, a year.
    yields: [f64; PRODUCTS],
    liquid: f64,
    banks: f64,
    investments: f64,
    receivables: f64,
    foreclosed: f64,
    fixed: f64,
    other: f64,
    term: f64,
    restricted: f64,
    borrowing: f64,
    payables: f64,
    capital: f64,
    reserves: f64,
    donations: f64,
    revaluation: f64,
    /// Operating expenses over assets, a year.
    opex: f64,
    opex_weights: Vec<f64>,
    /// Loan-loss provision expense over gross portfolio, a year.
    provisioning: f64,
    /// Average assets per member (US$).
    per_member: f64,
    inactive: f64,
}

impl Profile {
    fn draw(rng: &mut fastrand::Rng) -> Self {
        // Initial size log-uniform between US$ 0.8 M and 600 M.
        let assets = (uniform(rng, 800_000_f64.ln(), 600_000_000_f64.ln())).exp();
        let group = GROUPS
            .iter()
            .find(|(floor, _)| assets >= *floor)
            .map_or("muy pequeñas", |(_, name)| name);
        let commercial = if rng.f64() < 0.15 {
            0.0
        } else {
            uniform(rng, 0.005, 0.08)
        };
        let raw = [
            commercial,
            uniform(rng, 0.15, 0.5),
            uniform(rng, 0.02, 0.3),
            uniform(rng, 0.15, 0.6),
        ];
        let total: f64 = raw.iter().sum();
        let mix = raw.map(|w| w / total);
        Self {
            assets,
            growth: uniform(rng, 0.002, 0.015),
            group,
            portfolio: uniform(rng, 0.62, 0.8),
            mix,
            npl: [
                uniform(rng, 0.0, 0.12),
                uniform(rng, 0.01, 0.07),
                uniform(rng, 0.005, 0.035),
                uniform(rng, 0.02, 0.1),
            ],
            non_accruing: uniform(rng, 0.45, 0.7),
            restructured: uniform(rng, 0.0, 0.02),
            coverage: [
                uniform(rng, 0.6, 1.4),
                uniform(rng, 0.6, 1.4),
                uniform(rng, 0.6, 1.4),
                uniform(rng, 0.6, 1.4),
            ],
            general: uniform(rng, 0.002, 0.012),
            yields: [
                uniform(rng, 0.09, 0.12),
                uniform(rng, 0.14, 0.17),
                uniform(rng, 0.09, 0.11),
                uniform(rng, 0.19, 0.25),
            ],
            liquid: uniform(rng, 0.06, 0.14),
            banks: uniform(rng, 0.7, 0.92),
            investments: uniform(rng, 0.02, 0.12),
            receivables: uniform(rng, 0.008, 0.025),
            foreclosed: uniform(rng, 0.0, 0.005),
            fixed: uniform(rng, 0.015, 0.06),
            other: uniform(rng, 0.005, 0.02),
            term: uniform(rng, 0.35, 0.65),
            restricted: uniform(rng, 0.0, 0.03),
            borrowing: uniform(rng, 0.0, 0.15),
            payables: uniform(rng, 0.01, 0.03),
            capital: uniform(rng, 0.05, 0.1),
            reserves: uniform(rng, 0.03, 0.09),
            donations: uniform(rng, 0.0, 0.01),
            revaluation: uniform(rng, 0.0, 0.02),
            opex: uniform(rng, 0.04, 0.09),
            // 4501 personnel … 4507 other
            opex_weights: jitter(rng, &[0.45, 0.03, 0.25, 0.08, 0.06, 0.03, 0.1], 0.3),
            provisioning: uniform(rng, 0.006, 0.02),
            per_member: uniform(rng, 400.0, 1600.0),
            inactive: uniform(rng, 0.15, 0.45),
        }
    }
}

/// What changes from month to month, and the year-to-date flows.
struct State {
    assets: f64,
    npl_drift: [f64; PRODUCTS],
    inactive: f64,
    written_off: f64,
    /// Year-to-date income and expenses, in cents, by chart index.
    ytd: Vec<i64>,
}

/// Term buckets of performing loans and of term deposits (share by bucket).
const MATURITIES: [f64; 5] = [0.08, 0.14, 0.18, 0.25, 0.35];
const AGING: [f64; 5] = [0.3, 0.25, 0.2, 0.15, 0.1];

const PERFORMING: [[&str; 5]; PRODUCTS] = [
    ["140105", "140110", "140115", "140120", "140125"],
    ["140205", "140210", "140215", "140220", "140225"],
    ["140305", "140310", "140315", "140320", "140325"],
    ["140405", "140410", "140415", "140420", "140425"],
];
const NON_ACCRUING: [[&str; 5]; PRODUCTS] = [
    ["141105", "141110", "141115", "141120", "141125"],
    ["141205", "141210", "141215", "141220", "141225"],
    ["141305", "141310", "141315", "141320", "141325"],
    ["141405", "141410", "141415", "141420", "141425"],
];
const PAST_DUE: [[&str; 5]; PRODUCTS] = [
    ["142105", "142110", "142115", "142120", "142125"],
    ["142205", "142210", "142215", "142220", "142225"],
    ["142305", "142310", "142315", "142320", "142325"],
    ["142405", "142410", "142415", "142420", "142425"],
];
/// Restructured past due: consumer, housing, micro (no commercial account).
const RESTRUCTURED: [Option<[&str; 5]>; PRODUCTS] = [
    None,
    Some(["142605", "142610", "142615", "142620", "142625"]),
    Some(["142705", "142710", "142715", "142720", "142725"]),
    Some(["142805", "142810", "142815", "142820", "142825"]),
];
const SPECIFIC: [&str; PRODUCTS] = ["149905", "149910", "149915", "149920"];
const LOAN_INCOME: [&str; PRODUCTS] = ["510405", "510410", "510415", "510420"];
const ACCRUED: [&str; PRODUCTS] = ["160305", "160310", "160315", "160320"];
const APPROVED: [&str; PRODUCTS] = ["640405", "640410", "640415", "640420"];
const SUSPENDED: [&str; PRODUCTS] = ["710905", "710910", "710915", "710920"];
const OPEX: [(&str, &[&str], &[f64]); 7] = [
    (
        "4501",
        &["450105", "450110", "450120", "450135", "450190"],
        &[0.6, 0.15, 0.12, 0.08, 0.05],
    ),
    ("4502", &["450205", "450210"], &[0.3, 0.7]),
    (
        "4503",
        &[
            "450305", "450310", "450315", "450320", "450325", "450330", "450390",
        ],
        &[0.08, 0.2, 0.15, 0.15, 0.1, 0.12, 0.2],
    ),
    (
        "4504",
        &["450405", "450410", "450415", "450430"],
        &[0.45, 0.2, 0.33, 0.02],
    ),
    (
        "4505",
        &["450515", "450525", "450530", "450535"],
        &[0.3, 0.25, 0.3, 0.15],
    ),
    ("4506", &["450625", "450690"], &[0.7, 0.3]),
    ("4507", &["450705", "450715", "450790"], &[0.4, 0.35, 0.25]),
];

/// Fills one cooperative × month. `month` is 1..=12; flows accumulate in
/// `state.ytd` from January.
fn generate(
    p: &Profile,
    s: &mut State,
    month: u32,
    rng: &mut fastrand::Rng,
    b: &mut Block<'_>,
) -> Result<(), Box<dyn Error>> {
    b.clear();
    if month == 1 {
        s.ytd.fill(0);
    }
    // This month's size: trend plus noise.
    s.assets *= 1.0 + p.growth + uniform(rng, -0.006, 0.006);
    let a = s.assets;
    let n = |rng: &mut fastrand::Rng| uniform(rng, 0.97, 1.03);

    // ── 11 Fondos disponibles ──
    let liquid = a * p.liquid * n(rng);
    let banks = liquid * p.banks;
    let cash = liquid - banks;
    b.split(cash * 0.92, &["110105", "110110"], &[0.985, 0.015])?;
    b.split(banks * 0.15, &["110205"], &[1.0])?;
    b.split(
        banks * 0.85,
        &["110305", "110310", "110315"],
        &[0.1, 0.85, 0.05],
    )?;
    b.set("1104", cash * 0.05)?;
    b.split(cash * 0.03, &["110505", "110510"], &[0.9, 0.1])?;

    // ── 13 Inversiones ──
    let inv = a * p.investments * n(rng);
    b.split(
        inv * 0.15,
        &["130105", "130110", "130115"],
        &[0.5, 0.3, 0.2],
    )?;
    b.split(inv * 0.05, &["130205", "130210"], &[0.6, 0.4])?;
    b.split(
        inv * 0.3,
        &["130305", "130310", "130315", "130320"],
        &[0.2, 0.3, 0.3, 0.2],
    )?;
    b.split(inv * 0.05, &["130405", "130410"], &[0.5, 0.5])?;
    b.split(
        inv * 0.45,
        &["130505", "130510", "130515", "130520"],
        &[0.1, 0.2, 0.3, 0.4],
    )?;
    b.set("139905", -inv * 0.005)?;

    // ── 14 Cartera de créditos ──
    let gross = a * p.portfolio * n(rng);
    let mut gross_by = [0.0; PRODUCTS];
    let mut npl_by = [0.0; PRODUCTS];
    let mut npl_total = 0.0;
    let mut restructured_total = 0.0;
    for i in 0..PRODUCTS {
        s.npl_drift[i] = (s.npl_drift[i] * uniform(rng, 0.92, 1.08)).clamp(0.5, 2.0);
        let g = gross * p.mix[i];
        let npl = g * (p.npl[i] * s.npl_drift[i]).min(0.5);
        let restructured = if RESTRUCTURED[i].is_some() {
            npl * p.restructured
        } else {
            0.0
        };
        let non_accruing = (npl - restructured) * p.non_accruing;
        let past_due = npl - restructured - non_accruing;
        let performing = g - npl;
        let aging = jitter(rng, &AGING, 0.2);
        let performing_c = b.split(performing, &PERFORMING[i], &MATURITIES)?;
        let non_accruing_c = b.split(non_accruing, &NON_ACCRUING[i], &MATURITIES)?;
        let past_due_c = b.split(past_due, &PAST_DUE[i], &aging)?;
        let restructured_c = match RESTRUCTURED[i] {
            Some(codes) => b.split(restructured, &codes, &aging)?,
            None => 0,
        };
        gross_by[i] = cents_to_f64(performing_c + non_accruing_c + past_due_c + restructured_c);
        npl_by[i] = cents_to_f64(non_accruing_c + past_due_c + restructured_c);
        npl_total += npl_by[i];
        restructured_total += cents_to_f64(restructured_c);
        b.set(
            SPECIFIC[i],
            -(npl_by[i] - cents_to_f64(restructured_c)) * p.coverage[i],
        )?;
    }
    b.set("149925", -restructured_total * 0.5)?;
    b.set("149930", -gross * p.general)?;

    // ── 16 … 19 ──
    let receivables = a * p.receivables * n(rng);
    b.split(
        receivables * 0.1,
        &["160205", "160210", "160215"],
        &[0.15, 0.35, 0.5],
    )?;
    let weights: Vec<f64> = (0..PRODUCTS).map(|i| gross_by[i] * p.yields[i]).collect();
    b.split(receivables * 0.7, &ACCRUED, &weights)?;
    b.split(receivables * 0.2, &["169005", "169090"], &[0.3, 0.7])?;
    b.set("169910", -receivables * 0.03)?;
    let foreclosed = a * p.foreclosed * n(rng);
    b.split(foreclosed, &["170205", "170210"], &[0.4, 0.6])?;
    b.set("179910", -foreclosed * 0.3)?;
    let fixed = a * p.fixed;
    b.set("1801", fixed * 0.25)?;
    b.set("1802", fixed * 0.55)?;
    b.set("1805", fixed * 0.12)?;
    b.set("1806", fixed * 0.13)?;
    b.set("1807", fixed * 0.07)?;
    b.split(
        -fixed * 0.12,
        &["189905", "189915", "189920", "189925"],
        &[0.35, 0.2, 0.3, 0.15],
    )?;
    let other = a * p.other * n(rng);
    b.split(other * 0.15, &["190110", "190125"], &[0.3, 0.7])?;
    b.split(
        other * 0.05,
        &["190205", "190210", "190225", "190240"],
        &[0.4, 0.4, 0.1, 0.1],
    )?;
    b.split(other * 0.25, &["190410", "190490"], &[0.6, 0.4])?;
    b.split(other * 0.3, &["190520", "190530"], &[0.55, 0.45])?;
    b.set("190615", other * 0.05)?;
    b.split(other * 0.2, &["199005", "199090"], &[0.5, 0.5])?;
    b.set("199990", -other * 0.01)?;

    // ── 2 and 3 except deposits and the result ──
    let restricted = b.set("2105", a * p.restricted * n(rng))?;
    b.split(a * 0.002 * n(rng), &["2302", "2390"], &[0.7, 0.3])?;
    let payables = a * p.payables * n(rng);
    b.split(
        payables * 0.35,
        &["250105", "250115", "250135"],
        &[0.1, 0.8, 0.1],
    )?;
    b.split(
        payables * 0.3,
        &["250305", "250310", "250315", "250325"],
        &[0.2, 0.35, 0.2, 0.25],
    )?;
    b.split(payables * 0.1, &["250405", "250490"], &[0.8, 0.2])?;
    b.split(payables * 0.1, &["250505", "250590"], &[0.7, 0.3])?;
    b.set("2506", payables * 0.05)?;
    b.split(payables * 0.1, &["259005", "259090"], &[0.2, 0.8])?;
    let borrowing = a * p.borrowing * n(rng);
    b.split(
        borrowing * 0.6,
        &["260205", "260210", "260215", "260220", "260225"],
        &MATURITIES,
    )?;
    b.split(
        borrowing * 0.3,
        &["260615", "260620", "260625"],
        &[0.2, 0.3, 0.5],
    )?;
    b.split(borrowing * 0.1, &["260720", "260725"], &[0.3, 0.7])?;
    b.set("290105", a * 0.001)?;
    b.set("2902", a * 0.0005)?;
    b.split(a * 0.002 * n(rng), &["299005", "299090"], &[0.05, 0.95])?;
    b.set("3103", a * p.capital)?;
    b.set("330105", a * p.reserves * 0.8)?;
    b.set("330305", a * p.reserves * 0.02)?;
    b.set("330310", a * p.reserves * 0.13)?;
    b.set("3305", a * p.reserves * 0.05)?;
    b.set("340210", a * p.donations)?;
    b.set("3501", a * p.revaluation)?;

    // ── 5 and 4: this month's flows, added to the year to date ──
    // Deposit leaves and the result are still 0: classes 2 and 3 hold the rest.
    let chart = b.chart;
    let leaves_of = |b: &Block<'_>, keep: &dyn Fn(&str) -> bool| -> i64 {
        CHART
            .iter()
            .enumerate()
            .filter(|(i, (code, _))| chart.leaf.get(*i) == Some(&true) && keep(code))
            .map(|(i, _)| b.cents.get(i).copied().unwrap_or(0))
            .sum()
    };
    let non_deposit = cents_to_f64(leaves_of(b, &|c| c.starts_with('2') || c.starts_with('3')));
    let deposits_estimate = (a - non_deposit).max(0.0);
    let term_estimate = deposits_estimate * p.term;
    let savings_estimate = deposits_estimate - term_estimate;
    let mut flows: Vec<(&str, f64)> = Vec::with_capacity(64);
    let month_of = |annual: f64| annual / 12.0;
    for i in 0..PRODUCTS {
        flows.push((
            LOAN_INCOME[i],
            month_of((gross_by[i] - npl_by[i]) * p.yields[i]),
        ));
    }
    flows.push(("510430", month_of(npl_total * 0.05)));
    flows.push(("510110", month_of(banks * 0.02)));
    flows.push(("510305", month_of(inv * 0.2 * 0.04)));
    flows.push(("510310", month_of(inv * 0.35 * 0.05)));
    flows.push(("510315", month_of(inv * 0.45 * 0.055)));
    flows.push(("5201", month_of(gross * 0.002)));
    flows.push(("5290", month_of(a * 0.0005)));
    flows.push(("5490", month_of(a * 0.001)));
    flows.push(("5503", month_of(other * 0.15 * 0.05)));
    flows.push(("5590", month_of(a * 0.0005)));
    flows.push(("560405", month_of(a * 0.001)));
    flows.push(("560420", month_of(a * 0.0005)));
    flows.push(("5690", month_of(a * 0.0005)));
    flows.push(("410115", month_of(savings_estimate * 0.015)));
    flows.push(("410130", month_of(term_estimate * 0.065)));
    flows.push(("410135", month_of(cents_to_f64(restricted) * 0.01)));
    flows.push(("410320", month_of(borrowing * 0.6 * 0.075)));
    flows.push(("410335", month_of(borrowing * 0.3 * 0.06)));
    flows.push(("410345", month_of(borrowing * 0.1 * 0.07)));
    flows.push(("4201", month_of(borrowing * 0.002)));
    flows.push(("4203", month_of(a * 0.0002)));
    flows.push(("4290", month_of(a * 0.0003)));
    flows.push(("4401", month_of(inv * 0.001)));
    flows.push(("4402", month_of(gross * p.provisioning)));
    flows.push(("4403", month_of(receivables * 0.01)));
    flows.push(("4404", month_of(foreclosed * 0.05)));
    flows.push(("4405", month_of(other * 0.005)));
    let opex = month_of(a * p.opex) * n(rng);
    let opex_sum: f64 = p.opex_weights.iter().sum();
    for (k, (_, leaves, weights)) in OPEX.iter().enumerate() {
        let account = opex * p.opex_weights.get(k).copied().unwrap_or(0.0) / opex_sum;
        let total: f64 = weights.iter().sum();
        for (leaf, w) in leaves.iter().zip(weights.iter()) {
            flows.push((leaf, account * w / total));
        }
    }
    flows.push(("4703", month_of(a * 0.0004)));
    flows.push(("4690", month_of(a * 0.0003)));
    flows.push(("4701", month_of(foreclosed * 0.02)));
    flows.push(("4790", month_of(a * 0.0006)));
    flows.push(("5601", month_of(foreclosed * 0.03)));
    flows.push(("5603", month_of(a * 0.0002)));
    for (code, amount) in flows {
        if let Some(slot) = chart.index.get(code).and_then(|&i| s.ytd.get_mut(i)) {
            *slot += to_cents(amount);
        }
    }
    let mut income = 0_i64;
    let mut expense = 0_i64;
    for (i, (code, _)) in CHART.iter().enumerate() {
        if chart.leaf.get(i) != Some(&true) || code.starts_with("48") {
            continue;
        }
        let value = s.ytd.get(i).copied().unwrap_or(0);
        if code.starts_with('5') {
            b.set_cents(code, value)?;
            income += value;
        } else if code.starts_with('4') {
            b.set_cents(code, value)?;
            expense += value;
        }
    }
    // Workers' participation 15 % and income tax 22 % on a positive result.
    let pretax = income - expense;
    let participation = if pretax > 0 { pretax * 15 / 100 } else { 0 };
    let tax = if pretax > 0 {
        (pretax - participation) * 22 / 100
    } else {
        0
    };
    b.set_cents("4810", participation)?;
    b.set_cents("4815", tax)?;
    b.set_cents("3603", pretax - participation - tax)?;

    // ── 21 Depósitos: what balances the sheet ──
    let assets = leaves_of(b, &|c| c.starts_with('1'));
    let others = leaves_of(b, &|c| c.starts_with('2') || c.starts_with('3'));
    let mut deposits = assets - others;
    let floor = to_cents(a * 0.3);
    if deposits < floor {
        // Keep deposits realistic: the shortfall becomes cash.
        b.add_cents("110105", floor - deposits)?;
        deposits = floor;
    }
    let term = to_cents(cents_to_f64(deposits) * p.term);
    b.split(
        cents_to_f64(term),
        &["210305", "210310", "210315", "210320", "210325"],
        &MATURITIES,
    )?;
    b.split(
        cents_to_f64(deposits - term),
        &["210135", "210140", "210150"],
        &[0.95, 0.045, 0.005],
    )?;

    // ── 6 and 7: memoranda ──
    for i in 0..PRODUCTS {
        b.set(APPROVED[i], gross_by[i] * 0.02)?;
        b.set(SUSPENDED[i], npl_by[i] * 0.08)?;
    }
    b.set("6490", a * 0.001)?;
    s.written_off += gross * p.provisioning / 12.0 * 0.6;
    b.split(s.written_off, &["710305", "710310"], &[0.95, 0.05])?;
    b.set("710705", npl_total * 0.3)?;
    b.split(a * 0.012, &["710205", "710210"], &[0.2, 0.8])?;
    b.set("719090", a * 0.01)?;
    b.set("740105", a * 0.02)?;
    b.set("741405", s.written_off)?;
    b.set("749090", a * 0.005)?;

    // Members are written apart (pseudo-codes); their inactive share drifts.
    s.inactive = (s.inactive + uniform(rng, -0.004, 0.004)).clamp(0.05, 0.6);
    b.roll_up()
}

/// Synthetic annual inflation by period: a bounded random walk, in %.
fn inflation_path(seed: u64, periods: u32) -> Vec<f64> {
    let mut rng = fastrand::Rng::with_seed(mix(seed, u64::MAX));
    let mut level = uniform(&mut rng, 1.5, 3.0);
    (0..periods)
        .map(|_| {
            level = (level + uniform(&mut rng, -0.3, 0.3)).clamp(0.0, 6.0);
            (level * 100.0).round() / 100.0
        })
        .collect()
}

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Number of cooperatives.
    pub entities: u32,
    /// Number of consecutive months, from 2024-01.
    pub periods: u32,
    /// The same seed gives the same file.
    pub seed: u64,
    /// Add a `name` column with the account names.
    pub with_names: bool,
}

/// Writes the balances CSV to `sink`; returns the number of rows.
///
/// # Errors
/// When writing fails.
pub fn write_balances(args: Options, sink: impl Write) -> Result<u64, Box<dyn Error>> {
    let chart = Chart::new()?;
    let mut out = csv::WriterBuilder::new().from_writer(BufWriter::with_capacity(1 << 20, sink));
    if args.with_names {
        out.write_record(["entity", "period", "code", "name", "value", "grupo"])?;
    } else {
        out.write_record(["entity", "period", "code", "value", "grupo"])?;
    }
    let inflation = inflation_path(args.seed, args.periods);
    let periods: Vec<String> = (0..args.periods)
        .map(|t| format!("{}-{:02}", 2024 + t / 12, t % 12 + 1))
        .collect();
    let mut block = Block::new(&chart);
    let mut value = String::with_capacity(24);
    let mut rows: u64 = 0;
    for e in 0..args.entities {
        let mut rng = fastrand::Rng::with_seed(mix(args.seed, u64::from(e)));
        let profile = Profile::draw(&mut rng);
        let mut state = State {
            assets: profile.assets,
            npl_drift: [1.0; PRODUCTS],
            inactive: profile.inactive,
            written_off: profile.assets * 0.004,
            ytd: vec![0; CHART.len()],
        };
        let entity = format!("COAC_{:05}", e + 1);
        for (t, period) in periods.iter().enumerate() {
            let month = u32::try_from(t % 12)? + 1;
            let rate = inflation.get(t).copied().unwrap_or(0.0);
            generate(&profile, &mut state, month, &mut rng, &mut block)?;
            for (i, (code, name)) in CHART.iter().enumerate() {
                format_cents(block.cents.get(i).copied().unwrap_or(0), &mut value);
                if args.with_names {
                    out.write_record([entity.as_str(), period, code, name, &value, profile.group])?;
                } else {
                    out.write_record([entity.as_str(), period, code, &value, profile.group])?;
                }
            }
            let total = (state.assets / profile.per_member).round().max(50.0);
            let inactive = (total * state.inactive).round();
            let members = [
                ("SOCIOS_TOTAL", "Número de socios", total),
                ("SOCIOS_ACTIVOS", "Socios activos", total - inactive),
                ("SOCIOS_INACTIVOS", "Socios inactivos", inactive),
            ];
            for (code, name, count) in members {
                value.clear();
                let _ = write!(value, "{count:.0}");
                if args.with_names {
                    out.write_record([entity.as_str(), period, code, name, &value, profile.group])?;
                } else {
                    out.write_record([entity.as_str(), period, code, &value, profile.group])?;
                }
            }
            value.clear();
            let _ = write!(value, "{rate:.2}");
            if args.with_names {
                out.write_record([
                    entity.as_str(),
                    period,
                    "INFLACION",
                    "Inflación anual",
                    &value,
                    profile.group,
                ])?;
            } else {
                out.write_record([entity.as_str(), period, "INFLACION", &value, profile.group])?;
            }
            rows += CHART.len() as u64 + 4;
        }
    }
    out.flush()?;
    Ok(rows)
}

/// Codes per cooperative and month: the chart and the four pseudo-codes.
pub const CODES: usize = CHART.len() + 4;
