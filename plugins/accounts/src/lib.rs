//! # semaforo-accounts (being written)
#![forbid(unsafe_code)]

use semaforo_core::{Plugin, Registry};

/// The `accounts` plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct AccountsPlugin;

impl Plugin for AccountsPlugin {
    fn name(&self) -> &'static str {
        "accounts"
    }

    fn description(&self) -> &'static str {
        "chart-of-accounts balances: saldo, saldo_anterior, saldo_promedio; data format `balances`"
    }

    fn register(&self, _registry: &mut Registry<'_>) {}
}
