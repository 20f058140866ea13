//! What a parsed formula or helper function reads and calls: one walk of
//! rhai's AST that finds every read of a variable from outside the code (the
//! evaluation scope: fields, indicators, parameters) and every function call
//! with its arity, in every position — a whole-formula call, `if` branches,
//! parentheses, method calls, closures.
//!
//! Whether a variable is read from outside is rhai's own resolution, not a
//! guess from tokens: the parser gives every `let`, loop variable, closure
//! and function parameter a slot, and a read it resolved to a slot carries
//! that slot's index. A read without one is a read of the scope the
//! evaluator fills, so a local named like an indicator is never taken for it.

use std::any::TypeId;
use std::collections::BTreeSet;

use rhai::{AST, Dynamic, Expr, FnCallExpr, ImmutableString, Position, Stmt, StmtBlock};

/// What a value is, as far as the formula's text tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A decimal: number literals, number fields, indicators, arithmetic on numbers.
    Number,
    /// A text: string literals, text fields.
    Text,
    /// `true` / `false`, comparisons.
    Bool,
    /// Anything else, or not known before evaluation.
    Unknown,
}

impl Kind {
    /// Whether a native parameter of type `param` accepts a value of this kind.
    pub fn fits(self, param: TypeId) -> bool {
        param == TypeId::of::<Dynamic>()
            || match self {
                Self::Number => param == TypeId::of::<rust_decimal::Decimal>(),
                Self::Text => {
                    param == TypeId::of::<ImmutableString>() || param == TypeId::of::<String>()
                }
                Self::Bool => param == TypeId::of::<bool>(),
                Self::Unknown => true,
            }
    }

    /// The word used in messages.
    pub fn word(self) -> &'static str {
        match self {
            Self::Number => "number",
            Self::Text => "text",
            Self::Bool => "true/false",
            Self::Unknown => "value",
        }
    }
}

/// One function call as written.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    /// The function's name.
    pub name: ImmutableString,
    /// Where the call is (its name).
    pub position: Position,
    /// `x.f(…)`: the object is the first argument.
    pub method: bool,
    /// The kind of each argument, the object first for a method call.
    pub arguments: Vec<Kind>,
    /// A function named in `Fn("name")`: called later, with any arguments.
    pub pointer: bool,
}

/// What one walk found.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    /// Every read of a variable from the evaluation scope, in text order.
    pub reads: Vec<(ImmutableString, Position)>,
    /// Every function call (operators excluded), in text order.
    pub calls: Vec<Call>,
    /// Operators applied to values no version of them takes (e.g. text − number).
    pub bad_operators: Vec<Call>,
}

/// Walks code; `outside` gives the kind of a variable read from the scope.
struct Walker<'a> {
    outside: &'a dyn Fn(&str) -> Kind,
    scan: Scan,
    /// `let` locals in scope with the kind of their value; `None` where
    /// kinds of locals are not followed (function bodies).
    locals: Option<Vec<(ImmutableString, Kind)>>,
    /// Locals assigned after their `let`: their kind is not known.
    reassigned: BTreeSet<ImmutableString>,
}

/// Scans a formula's own statements (not the functions it defines: see [`scan_functions`]).
pub(crate) fn scan_statements(ast: &AST, outside: &dyn Fn(&str) -> Kind) -> Scan {
    let mut reassigned = BTreeSet::new();
    // Closures included: they may assign a captured local.
    ast.walk(&mut |path: &[rhai::ASTNode]| {
        if let Some(rhai::ASTNode::Stmt(Stmt::Assignment(assignment))) = path.last()
            && let Expr::Variable(var, ..) = &assignment.1.lhs
        {
            reassigned.insert(var.1.clone());
        }
        true
    });
    let mut walker = Walker {
        outside,
        scan: Scan::default(),
        locals: Some(Vec::new()),
        reassigned,
    };
    for stmt in ast.statements() {
        walker.stmt(stmt);
    }
    walker.scan
}

/// Scans the bodies of the functions `ast` defines (helpers, closures): their
/// calls and operators. A function reads only its parameters, so its reads
/// are not inputs.
pub(crate) fn scan_functions(ast: &AST) -> Scan {
    let unknown = |_: &str| Kind::Unknown;
    let mut walker = Walker {
        outside: &unknown,
        scan: Scan::default(),
        locals: None,
        reassigned: BTreeSet::new(),
    };
    // rhai does not export the type of a function body; a walk of the
    // functions alone visits each body's statements at depth one.
    ast.clone_functions_only()
        .walk(&mut |path: &[rhai::ASTNode]| {
            if let [rhai::ASTNode::Stmt(stmt)] = path {
                walker.stmt(stmt);
            }
            true
        });
    walker.scan
}

impl Walker<'_> {
    /// Walks a block (its `let`s end with it) and tells the kind of its value.
    fn block(&mut self, block: &StmtBlock) -> Kind {
        let mark = self.locals.as_ref().map(Vec::len);
        let mut last = Kind::Unknown;
        for stmt in block.statements() {
            last = self.stmt(stmt);
        }
        if let (Some(locals), Some(mark)) = (&mut self.locals, mark) {
            locals.truncate(mark);
        }
        last
    }

    /// Binds a local with the kind of its value.
    fn bind(&mut self, name: &ImmutableString, kind: Kind) {
        let kind = if self.reassigned.contains(name) {
            Kind::Unknown
        } else {
            kind
        };
        if let Some(locals) = &mut self.locals {
            locals.push((name.clone(), kind));
        }
    }

    /// Walks a statement and tells the kind of its value (for the last
    /// statement of a block: the block's value).
    fn stmt(&mut self, stmt: &Stmt) -> Kind {
        match stmt {
            Stmt::If(flow, _) => {
                self.expr(&flow.expr);
                let body = self.block(&flow.body);
                let branch = self.block(&flow.branch);
                return if body == branch { body } else { Kind::Unknown };
            }
            Stmt::While(flow, _) | Stmt::Do(flow, ..) => {
                self.expr(&flow.expr);
                self.block(&flow.body);
                self.block(&flow.branch);
            }
            // `expr` is the catch variable: a binding, not a read.
            Stmt::TryCatch(flow, _) => {
                self.block(&flow.body);
                let mark = self.locals.as_ref().map(Vec::len);
                if let Expr::Variable(var, ..) = &flow.expr {
                    self.bind(&var.1, Kind::Unknown);
                }
                self.block(&flow.branch);
                if let (Some(locals), Some(mark)) = (&mut self.locals, mark) {
                    locals.truncate(mark);
                }
            }
            Stmt::Switch(switch, _) => {
                let (expr, cases) = &**switch;
                self.expr(expr);
                for case in &cases.expressions {
                    self.expr(&case.lhs);
                    self.expr(&case.rhs);
                }
            }
            Stmt::For(for_loop, _) => {
                self.expr(&for_loop.2.expr);
                let mark = self.locals.as_ref().map(Vec::len);
                self.bind(&for_loop.0.name, Kind::Unknown);
                if let Some(counter) = &for_loop.1 {
                    self.bind(&counter.name, Kind::Unknown);
                }
                self.block(&for_loop.2.body);
                if let (Some(locals), Some(mark)) = (&mut self.locals, mark) {
                    locals.truncate(mark);
                }
            }
            Stmt::Var(var, ..) => {
                let kind = self.expr(&var.1);
                self.bind(&var.0.name, kind);
            }
            Stmt::Assignment(assignment) => {
                self.expr(&assignment.1.lhs);
                self.expr(&assignment.1.rhs);
            }
            Stmt::FnCall(call, position) => return self.call(call, *position, None),
            Stmt::Block(block) => return self.block(block),
            Stmt::Expr(expr) => return self.expr(expr),
            Stmt::BreakLoop(value, ..) | Stmt::Return(value, ..) => {
                if let Some(value) = value {
                    self.expr(value);
                }
            }
            // `Share` repeats variables the curried call reads (walked there).
            _ => {}
        }
        Kind::Unknown
    }

    /// Walks an expression and tells what kind of value it gives.
    fn expr(&mut self, expr: &Expr) -> Kind {
        match expr {
            Expr::DynamicConstant(value, position) => {
                // `Fn("name")` with a literal name is parsed into a function pointer.
                if let Some(pointer) = value.read_lock::<rhai::FnPtr>()
                    && !pointer.fn_name().starts_with("anon$")
                {
                    self.scan.calls.push(Call {
                        name: pointer.fn_name().into(),
                        position: *position,
                        method: false,
                        arguments: Vec::new(),
                        pointer: true,
                    });
                }
                if value.is_decimal() {
                    Kind::Number
                } else if value.is_string() {
                    Kind::Text
                } else if value.is_bool() {
                    Kind::Bool
                } else {
                    Kind::Unknown
                }
            }
            Expr::BoolConstant(..) => Kind::Bool,
            Expr::StringConstant(..) => Kind::Text,
            Expr::InterpolatedString(parts, _) => {
                for part in parts {
                    self.expr(part);
                }
                Kind::Text
            }
            Expr::Array(items, _) => {
                for item in items {
                    self.expr(item);
                }
                Kind::Unknown
            }
            Expr::Map(map, _) => {
                for (_, value) in &map.0 {
                    self.expr(value);
                }
                Kind::Unknown
            }
            Expr::Variable(var, _, position) => {
                if var.0.is_none() {
                    self.scan.reads.push((var.1.clone(), *position));
                    (self.outside)(var.1.as_str())
                } else {
                    self.locals
                        .iter()
                        .flatten()
                        .rev()
                        .find(|(name, _)| *name == var.1)
                        .map_or(Kind::Unknown, |(_, kind)| *kind)
                }
            }
            Expr::Stmt(block) => self.block(block),
            Expr::FnCall(call, position) => self.call(call, *position, None),
            Expr::MethodCall(call, position) => {
                // Only inside a `Dot`, which passes the object; alone, no object is known.
                self.call(call, *position, Some(Kind::Unknown))
            }
            Expr::Dot(binary, ..) => {
                let object = self.expr(&binary.lhs);
                self.chain(&binary.rhs, object);
                Kind::Unknown
            }
            Expr::Index(binary, ..) => {
                self.expr(&binary.lhs);
                self.expr(&binary.rhs);
                Kind::Unknown
            }
            Expr::And(items, _) | Expr::Or(items, _) => {
                for item in items.iter() {
                    self.expr(item);
                }
                Kind::Bool
            }
            Expr::Coalesce(items, _) => {
                for item in items.iter() {
                    self.expr(item);
                }
                Kind::Unknown
            }
            _ => Kind::Unknown,
        }
    }

    /// The right side of a `.`: properties, method calls on `object`, and further links.
    fn chain(&mut self, expr: &Expr, object: Kind) {
        match expr {
            Expr::MethodCall(call, position) => {
                self.call(call, *position, Some(object));
            }
            Expr::Dot(binary, ..) => {
                self.chain(&binary.lhs, object);
                self.chain(&binary.rhs, Kind::Unknown);
            }
            Expr::Index(binary, ..) => {
                self.chain(&binary.lhs, object);
                self.expr(&binary.rhs);
            }
            Expr::Property(..) => {}
            other => {
                self.expr(other);
            }
        }
    }

    fn call(&mut self, call: &FnCallExpr, position: Position, object: Option<Kind>) -> Kind {
        let arguments: Vec<Kind> = object
            .into_iter()
            .chain(call.args.iter().map(|arg| self.expr(arg)))
            .collect();
        if call.op_token.is_some() || !rhai::is_valid_identifier(&call.name) {
            let known = arguments.iter().all(|k| *k != Kind::Unknown);
            if (known && !operator_fits(&call.name, &arguments))
                || bitwise_on_values(&call.name, &arguments)
            {
                self.scan.bad_operators.push(Call {
                    name: call.name.clone(),
                    position,
                    method: false,
                    arguments: arguments.clone(),
                    pointer: false,
                });
            }
            return operator_result(&call.name, &arguments);
        }
        if let ("Fn", [Expr::StringConstant(name, at)]) = (call.name.as_str(), call.args.as_slice())
        {
            self.scan.calls.push(Call {
                name: name.clone(),
                position: *at,
                method: false,
                arguments: Vec::new(),
                pointer: true,
            });
        }
        self.scan.calls.push(Call {
            name: call.name.clone(),
            position,
            method: object.is_some(),
            arguments,
            pointer: false,
        });
        Kind::Unknown
    }
}

/// What an operator gives, when its operands tell.
fn operator_result(operator: &str, operands: &[Kind]) -> Kind {
    match (operator, operands) {
        ("==" | "!=" | "<" | ">" | "<=" | ">=" | "!", _) => Kind::Bool,
        ("+" | "-" | "*" | "/" | "%" | "**", [Kind::Number] | [Kind::Number, Kind::Number]) => {
            Kind::Number
        }
        ("+" | "-", [Kind::Text, Kind::Text]) => Kind::Text,
        _ => Kind::Unknown,
    }
}

/// `&`, `|`, `^` take true/false or whole numbers only: one decimal or text
/// operand is enough to know no version fits, whatever the other is.
fn bitwise_on_values(operator: &str, operands: &[Kind]) -> bool {
    matches!(operator, "&" | "|" | "^")
        && operands
            .iter()
            .any(|k| matches!(k, Kind::Number | Kind::Text))
}

/// Whether rhai has a version of `operator` for operands of these (known)
/// kinds. Comparisons take any two values (of different types they are
/// simply unequal); arithmetic takes numbers, `+` and `-` also two texts;
/// `&`, `|`, `^` and `!` take true/false.
fn operator_fits(operator: &str, operands: &[Kind]) -> bool {
    use Kind::{Bool, Number, Text};
    match (operator, operands) {
        ("+" | "-" | "*" | "/" | "%" | "**", [Number, Number])
        | ("+" | "-", [Text, Text])
        | ("-", [Number])
        | ("&" | "|" | "^", [Bool, Bool])
        | ("!", [Bool]) => true,
        ("+" | "-" | "*" | "/" | "%" | "**" | "&" | "|" | "^" | "!", _) => false,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::engine::build_engine;
    use crate::pack::limits::Limits;

    fn scan(text: &str, outside: &[&str]) -> Scan {
        let (mut engine, _) = build_engine(&Limits::default(), &[]);
        engine.set_strict_variables(false);
        let ast = engine.compile(text).unwrap();
        let _ = outside;
        scan_statements(&ast, &|_| Kind::Number)
    }

    fn reads(text: &str) -> Vec<String> {
        scan(text, &[])
            .reads
            .iter()
            .map(|(n, _)| n.to_string())
            .collect()
    }

    fn calls(text: &str) -> Vec<(String, usize, Option<usize>)> {
        scan(text, &[])
            .calls
            .iter()
            .map(|c| (c.name.to_string(), c.arguments.len(), c.position.position()))
            .collect()
    }

    #[test]
    fn locals_loop_variables_and_closure_parameters_are_not_reads() {
        assert_eq!(reads("let a = b; a + c"), ["b", "c"]);
        assert_eq!(reads("let f = |a| a * 2; f.call(b)"), ["b"]);
        assert_eq!(
            reads("let s = 0; for a in [1, 2] { s += a } s"),
            Vec::<String>::new()
        );
        assert_eq!(reads("{ let a = 1; } a"), ["a"]);
        assert_eq!(reads("let f = |x| x + a; f.call(1)"), ["a"]);
    }

    #[test]
    fn calls_are_found_in_every_position() {
        assert_eq!(calls("percnt(a, b)"), [("percnt".into(), 2, Some(1))]);
        assert_eq!(calls("(percnt(a))"), [("percnt".into(), 1, Some(2))]);
        assert_eq!(
            calls("if a > 1 { foo(a) } else { bar() }"),
            [("foo".into(), 1, Some(12)), ("bar".into(), 0, Some(28))]
        );
        assert_eq!(calls("a.abs()"), [("abs".into(), 1, Some(3))]);
        assert_eq!(
            calls("a + b * 2"),
            Vec::<(String, usize, Option<usize>)>::new()
        );
    }
}
