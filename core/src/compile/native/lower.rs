//! Lowering a compiled formula's AST to the native subset: a tree of
//! [`Node`]s, or `None` when the formula uses anything outside it.

use rhai::{AST, Engine, Expr, Position, Stmt, Token};
use rust_decimal::Decimal;

use crate::compile::binding::Input;
use crate::compile::native::run::{Arith, Compare};

/// Functions of the subset; if anything but rhai's built-ins defines one of
/// these names, formulas calling them stay on the rhai path.
const FUNCTIONS: [&str; 3] = ["min", "max", "abs"];

/// What the lowering must know besides the formula.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lowering {
    /// The engine's operation limit (0: none); a formula that could reach it
    /// stays on the rhai path, which counts operations.
    pub max_operations: u64,
    /// A plugin registered one of [`FUNCTIONS`] itself.
    pub functions_shadowed: bool,
}

impl Lowering {
    /// The lowering options for formulas compiled with `engine`.
    pub(crate) fn for_engine(engine: &Engine, max_operations: u64) -> Self {
        let shadowing = engine.collect_fn_metadata(
            None,
            |f| FUNCTIONS.contains(&f.metadata.name.as_str()).then_some(()),
            false,
        );
        Self {
            max_operations,
            functions_shadowed: !shadowing.is_empty(),
        }
    }
}

/// A numeric expression: the lowered formula, before it is assembled.
#[derive(Debug, Clone)]
pub(super) enum Node {
    Constant(Decimal),
    /// Index into the formula's inputs.
    Input(usize),
    Negate(Box<Node>),
    /// The operator's position is where rhai reports its errors.
    Arith(Arith, Box<(Node, Node)>, Position),
    Min(Box<(Node, Node)>),
    Max(Box<(Node, Node)>),
    Abs(Box<Node>),
    If(Box<(Condition, Node, Node)>),
}

/// A boolean expression (only in `if` conditions).
#[derive(Debug, Clone)]
pub(super) enum Condition {
    Constant(bool),
    Compare(Compare, Box<(Node, Node)>),
    And(Vec<Condition>),
    Or(Vec<Condition>),
}

/// The tree of a compiled formula, or `None` when it uses anything outside
/// the subset or could reach the engine's operation limit. `inputs` are the
/// formula's inputs, in the order of the program's first registers.
pub(super) fn tree(ast: &AST, inputs: &[Input], options: Lowering) -> Option<Node> {
    let script_shadows = ast.iter_functions().any(|f| FUNCTIONS.contains(&f.name));
    let lowerer = Lowerer {
        inputs,
        functions: !(options.functions_shadowed || script_shadows),
    };
    let root = lowerer.block(ast.statements())?;
    // rhai counts about one operation per node evaluated; leave a wide margin.
    let operations = u64::try_from(root.size())
        .ok()?
        .checked_mul(4)?
        .checked_add(16)?;
    if options.max_operations != 0 && operations >= options.max_operations {
        return None;
    }
    Some(root)
}

impl Node {
    fn size(&self) -> usize {
        match self {
            Self::Constant(_) | Self::Input(_) => 1,
            Self::Negate(x) | Self::Abs(x) => 1 + x.size(),
            Self::Arith(_, operands, _) | Self::Min(operands) | Self::Max(operands) => {
                1 + operands.0.size() + operands.1.size()
            }
            Self::If(parts) => 1 + parts.0.size() + parts.1.size() + parts.2.size(),
        }
    }
}

impl Condition {
    fn size(&self) -> usize {
        match self {
            Self::Constant(_) => 1,
            Self::Compare(_, operands) => 1 + operands.0.size() + operands.1.size(),
            Self::And(all) | Self::Or(all) => 1 + all.iter().map(Self::size).sum::<usize>(),
        }
    }
}

struct Lowerer<'a> {
    inputs: &'a [Input],
    /// Whether `min`, `max` and `abs` are rhai's own.
    functions: bool,
}

impl Lowerer<'_> {
    /// A block's value is its single statement's.
    fn block(&self, statements: &[Stmt]) -> Option<Node> {
        match statements {
            [statement] => self.statement(statement),
            _ => None,
        }
    }

    fn statement(&self, statement: &Stmt) -> Option<Node> {
        match statement {
            Stmt::Expr(expr) => self.number(expr),
            Stmt::FnCall(call, at) => self.call(call, *at),
            Stmt::Block(block) => self.block(block.statements()),
            Stmt::If(flow, _) => {
                // Both branches must give a number: `if` without `else` gives `()`.
                let condition = self.condition(&flow.expr)?;
                let then = self.block(flow.body.statements())?;
                let otherwise = self.block(flow.branch.statements())?;
                Some(Node::If(Box::new((condition, then, otherwise))))
            }
            _ => None,
        }
    }

    fn number(&self, expr: &Expr) -> Option<Node> {
        match expr {
            Expr::DynamicConstant(value, _) => value.as_decimal().ok().map(Node::Constant),
            Expr::Variable(var, ..) => self
                .inputs
                .iter()
                .position(|i| i.name == var.1)
                .map(Node::Input),
            Expr::FnCall(call, at) => self.call(call, *at),
            Expr::Stmt(block) => self.block(block.statements()),
            _ => None,
        }
    }

    fn call(&self, call: &rhai::FnCallExpr, at: Position) -> Option<Node> {
        if call.capture_parent_scope {
            return None;
        }
        match (&call.op_token, call.args.as_slice()) {
            (Some(Token::Minus | Token::UnaryMinus), [x]) => {
                Some(Node::Negate(Box::new(self.number(x)?)))
            }
            (Some(token), [x, y]) => {
                let op = match token {
                    Token::Plus => Arith::Add,
                    Token::Minus => Arith::Subtract,
                    Token::Multiply => Arith::Multiply,
                    Token::Divide => Arith::Divide,
                    _ => return None,
                };
                Some(Node::Arith(
                    op,
                    Box::new((self.number(x)?, self.number(y)?)),
                    at,
                ))
            }
            (None, args) if self.functions => match (call.name.as_str(), args) {
                ("min", [x, y]) => Some(Node::Min(Box::new((self.number(x)?, self.number(y)?)))),
                ("max", [x, y]) => Some(Node::Max(Box::new((self.number(x)?, self.number(y)?)))),
                ("abs", [x]) => Some(Node::Abs(Box::new(self.number(x)?))),
                _ => None,
            },
            _ => None,
        }
    }

    fn condition(&self, expr: &Expr) -> Option<Condition> {
        match expr {
            Expr::BoolConstant(b, _) => Some(Condition::Constant(*b)),
            Expr::And(all, _) => all
                .iter()
                .map(|e| self.condition(e))
                .collect::<Option<_>>()
                .map(Condition::And),
            Expr::Or(any, _) => any
                .iter()
                .map(|e| self.condition(e))
                .collect::<Option<_>>()
                .map(Condition::Or),
            Expr::FnCall(call, _) if !call.capture_parent_scope => {
                let [x, y] = call.args.as_slice() else {
                    return None;
                };
                let op = match call.op_token.as_ref()? {
                    Token::EqualsTo => Compare::Equal,
                    Token::NotEqualsTo => Compare::NotEqual,
                    Token::GreaterThan => Compare::Greater,
                    Token::GreaterThanEqualsTo => Compare::GreaterOrEqual,
                    Token::LessThan => Compare::Less,
                    Token::LessThanEqualsTo => Compare::LessOrEqual,
                    _ => return None,
                };
                Some(Condition::Compare(
                    op,
                    Box::new((self.number(x)?, self.number(y)?)),
                ))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::engine::build_engine;
    use crate::compile::native::tests::{compile, inputs};
    use crate::compile::plugin::{Plugin, Registry};
    use crate::pack::limits::Limits;

    fn lowered(formula: &str) -> Option<Node> {
        let (engine, _) = build_engine(&Limits::default(), &[]);
        let options = Lowering::for_engine(&engine, Limits::default().max_operations);
        tree(&compile(&engine, formula), &inputs(), options)
    }

    #[test]
    fn the_subset_lowers() {
        for formula in [
            "a",
            "12.5",
            "-a",
            "a + b * c",
            "(a * 100) / b",
            "a / b * 100 - c",
            "-(a - b) / -3",
            "min(a, b) / max(b, c) * 100",
            "abs(a - b)",
            "if a > b { a } else { b }",
            "if a >= 0 && b != 0 || c == 1 { a / b } else if c < 2 { 0 } else { -c }",
            "(if a <= b { a } else { b }) * 2",
            "{ a + b }",
            "min(a, 1) + if true { b } else { c }",
        ] {
            assert!(lowered(formula).is_some(), "{formula} should lower");
        }
    }

    #[test]
    fn everything_else_stays_in_rhai() {
        for formula in [
            "let x = a; x * 2",
            "let x = a; let y = b; x + y",
            "if a > b { a }",
            "a > b",
            "a % b",
            "a ** 2",
            "round(a, 2)",
            "if a { b } else { c }",
            "if !(a > b) { a } else { b }",
            "\"text\"",
            "true",
            "a.abs()",
            "min(a, b, c)",
            "a ?? b",
            "if a > b { a } else { \"x\" }",
        ] {
            assert!(lowered(formula).is_none(), "{formula} should not lower");
        }
    }

    #[test]
    fn script_functions_named_like_the_subset_keep_rhai() {
        let (engine, _) = build_engine(&Limits::default(), &[]);
        let options = Lowering::for_engine(&engine, 0);
        assert!(!options.functions_shadowed);
        let helpers = engine.compile("fn max(x, y) { x }").unwrap();
        let ast = helpers.merge(&compile(&engine, "max(a, b)"));
        assert!(tree(&ast, &inputs(), options).is_none());
        let ast = helpers.merge(&compile(&engine, "a + b"));
        assert!(tree(&ast, &inputs(), options).is_some());
    }

    struct Shadow;
    impl Plugin for Shadow {
        fn name(&self) -> &'static str {
            "shadow"
        }
        fn description(&self) -> &'static str {
            "redefines abs"
        }
        fn register(&self, registry: &mut Registry<'_>) {
            registry.engine().register_fn("abs", |x: Decimal| x);
        }
    }

    #[test]
    fn plugin_functions_named_like_the_subset_keep_rhai() {
        let (engine, _) = build_engine(&Limits::default(), &[&Shadow]);
        let options = Lowering::for_engine(&engine, 0);
        assert!(options.functions_shadowed);
        assert!(tree(&compile(&engine, "abs(a)"), &inputs(), options).is_none());
        assert!(tree(&compile(&engine, "a * b"), &inputs(), options).is_some());
    }

    #[test]
    fn a_tight_operation_limit_keeps_rhai() {
        let (engine, _) = build_engine(&Limits::default(), &[]);
        let ast = compile(&engine, "a + b + c");
        let options = Lowering::for_engine(&engine, 10);
        assert!(tree(&ast, &inputs(), options).is_none());
    }
}
