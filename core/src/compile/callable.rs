//! The functions a pack's formulas and helpers can call — the engine's
//! (rhai's packages and `round`), each plugin's, the pack's helper functions
//! and rhai's keyword functions — by name and arity, and the check of one
//! call against them: an unknown name (with the nearest known one), a wrong
//! number of arguments (with the numbers that exist), or arguments no
//! overload takes. What passes here, evaluation finds.

use std::any::TypeId;
use std::collections::{BTreeMap, BTreeSet};

use rhai::Engine;

use crate::compile::plugin::{Plugin, Registry};
use crate::compile::scan::{Call, Kind};

/// Who provides a function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    /// rhai's packages or the engine's own (`round`).
    Engine,
    /// A plugin, by name.
    Plugin(&'static str),
    /// A helper function of the pack's `.rhai` files (the file's name).
    Helper(String),
    /// A rhai keyword function (`type_of`, `Fn`, `call`, …).
    Keyword,
}

impl Origin {
    /// How a message names it, e.g. "the `ratios` plugin".
    pub fn describe(&self) -> String {
        match self {
            Self::Engine => "the engine".to_owned(),
            Self::Plugin(name) => format!("the `{name}` plugin"),
            Self::Helper(file) => format!("the helper file {file}"),
            Self::Keyword => "rhai".to_owned(),
        }
    }
}

/// One way to call a name.
#[derive(Debug, Clone)]
struct Overload {
    /// Fewest arguments.
    min: usize,
    /// Most arguments (`None`: no limit).
    max: Option<usize>,
    /// Native parameter types, when known (script functions take anything).
    params: Option<Vec<TypeId>>,
    origin: Origin,
}

impl Overload {
    fn takes(&self, count: usize) -> bool {
        count >= self.min && self.max.is_none_or(|max| count <= max)
    }
}

/// rhai's keyword functions with the argument counts they take.
const KEYWORDS: [(&str, usize, Option<usize>); 9] = [
    ("type_of", 1, Some(1)),
    ("Fn", 1, Some(1)),
    ("call", 1, None),
    ("curry", 1, None),
    ("is_def_var", 1, Some(1)),
    ("is_def_fn", 2, Some(2)),
    ("is_shared", 1, Some(1)),
    ("print", 0, Some(1)),
    ("debug", 0, Some(1)),
];

/// Every function a pack can call.
#[derive(Debug, Clone, Default)]
pub(crate) struct Callables {
    by_name: BTreeMap<String, Vec<Overload>>,
}

/// What is wrong with a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CallProblem {
    /// One sentence (without the context of which formula).
    pub message: String,
    /// What to do.
    pub help: String,
}

impl Callables {
    /// The engine's functions (packages, `round`) and the plugins', each with its origin.
    pub fn native(engine: &Engine, plugins: &[&'static dyn Plugin]) -> Self {
        let mut by_plugin: BTreeMap<(String, usize), &'static str> = BTreeMap::new();
        for plugin in plugins {
            let mut alone = Engine::new_raw();
            let mut inputs = Vec::new();
            plugin.register(&mut Registry::new(&mut alone, &mut inputs));
            for (name, arity) in alone.collect_fn_metadata(
                None,
                |f| Some((f.metadata.name.to_string(), f.metadata.num_params)),
                false,
            ) {
                by_plugin.insert((name, arity), plugin.name());
            }
        }
        let mut callables = Self::default();
        for (name, params) in engine.collect_fn_metadata(
            None,
            |f| Some((f.metadata.name.to_string(), f.metadata.param_types.to_vec())),
            true,
        ) {
            let arity = params.len();
            let origin = by_plugin
                .get(&(name.clone(), arity))
                .map_or(Origin::Engine, |p| Origin::Plugin(p));
            callables.add(
                name,
                Overload {
                    min: arity,
                    max: Some(arity),
                    params: Some(params),
                    origin,
                },
            );
        }
        for (name, min, max) in KEYWORDS {
            callables.add(
                name.to_owned(),
                Overload {
                    min,
                    max,
                    params: None,
                    origin: Origin::Keyword,
                },
            );
        }
        callables
    }

    fn add(&mut self, name: String, overload: Overload) {
        self.by_name.entry(name).or_default().push(overload);
    }

    /// Adds a script function (a helper, or a function a formula defines).
    pub fn add_script(&mut self, name: &str, arity: usize, origin: Origin) {
        self.add(
            name.to_owned(),
            Overload {
                min: arity,
                max: Some(arity),
                params: None,
                origin,
            },
        );
    }

    /// Who provides `name` with `arity` parameters, other than helper
    /// functions: the function a helper of that signature would replace.
    pub fn provider(&self, name: &str, arity: usize) -> Option<&Origin> {
        self.by_name.get(name).and_then(|overloads| {
            overloads
                .iter()
                .find(|o| o.takes(arity) && !matches!(o.origin, Origin::Helper(_)))
                .map(|o| &o.origin)
        })
    }

    /// Checks one call; `None` when evaluation will find a function for it.
    pub fn check(&self, call: &Call) -> Option<CallProblem> {
        let name = call.name.as_str();
        let Some(overloads) = self.by_name.get(name) else {
            let help = match self.nearest(name) {
                Some(near) => format!(
                    "did you mean `{near}`? Otherwise check that the pack lists the plugin that provides it under pack.plugins"
                ),
                None => "check the spelling, and that the pack lists the plugin that provides it under pack.plugins".to_owned(),
            };
            return Some(CallProblem {
                message: format!("function `{name}` does not exist"),
                help,
            });
        };
        if call.pointer {
            return None;
        }
        let count = call.arguments.len();
        // A method call `x.f(a)` is `f(x, a)` for a native function and
        // `f(a)` with `this = x` for a script function (measured: a helper
        // `f(x, a)` is not found by `x.f(a)`).
        let fits = |o: &Overload| match (&o.origin, call.method) {
            (Origin::Helper(_), true) => o.takes(count - 1),
            _ => o.takes(count),
        };
        let candidates: Vec<&Overload> = overloads.iter().filter(|o| fits(o)).collect();
        if candidates.is_empty() {
            let mut counts: BTreeSet<String> = BTreeSet::new();
            for o in overloads {
                counts.insert(match o.max {
                    Some(max) if max == o.min => o.min.to_string(),
                    Some(max) => format!("{} to {max}", o.min),
                    None => format!("{} or more", o.min),
                });
            }
            let counts: Vec<String> = counts.into_iter().collect();
            let given = if call.method {
                format!(
                    "{count} (counting the value before the dot; a helper gets that value as `this` instead)"
                )
            } else {
                count.to_string()
            };
            return Some(CallProblem {
                message: format!(
                    "function `{name}` takes {} argument(s), not {given}",
                    join_or(&counts)
                ),
                help: format!("call it with {} argument(s)", join_or(&counts)),
            });
        }
        let typed = candidates.iter().all(|o| o.params.is_some());
        let known = call.arguments.iter().all(|k| *k != Kind::Unknown);
        if typed && known {
            let accepted = candidates.iter().any(|o| {
                o.params.as_ref().is_some_and(|params| {
                    params
                        .iter()
                        .zip(&call.arguments)
                        .all(|(param, kind)| kind.fits(*param))
                })
            });
            if !accepted {
                let kinds: Vec<&str> = call.arguments.iter().map(|k| k.word()).collect();
                return Some(CallProblem {
                    message: format!(
                        "function `{name}` cannot take ({}): no version of it accepts those values",
                        kinds.join(", ")
                    ),
                    help:
                        "check the arguments' order and types: numbers are decimals, text is quoted"
                            .to_owned(),
                });
            }
        }
        None
    }

    /// The known name nearest to `name`, if one is near enough to be a slip.
    pub fn nearest(&self, name: &str) -> Option<&str> {
        nearest(name, self.by_name.keys().map(String::as_str))
    }
}

/// The candidate nearest to `wanted` by edit distance (a swap of two
/// neighbours counts as one edit), if close enough to
/// be a slip (at most a third of its length, and at least one edit).
pub(crate) fn nearest<'a>(
    wanted: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (wanted.chars().count() / 3).max(1);
    candidates
        .filter(|c| rhai::is_valid_identifier(c))
        .map(|c| (strsim::osa_distance(wanted, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

fn join_or(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nearest_name_is_a_slip_away() {
        let names = ["percent", "ratio", "round", "variation"];
        assert_eq!(nearest("percnt", names.into_iter()), Some("percent"));
        assert_eq!(nearest("rund", names.into_iter()), Some("round"));
        assert_eq!(nearest("zzzzzz", names.into_iter()), None);
    }
}
