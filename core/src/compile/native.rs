//! The native fast path: formulas that are plain arithmetic over their
//! inputs are lowered, once at compile time, from rhai's AST into a small
//! tree, assembled into a [`Program`] of steps over registers and evaluated
//! directly over decimals, without a scope or `Dynamic`s — many rows at a
//! time ([`Lanes`]): each step runs over every row before the next step.
//!
//! The subset: decimal literals, variables bound to inputs, unary minus,
//! `+ - * /`, `min(a, b)`, `max(a, b)`, `abs(a)`, and `if c { a } else { b }`
//! whose condition is built from `< <= > >= == !=`, `&&` and `||`. Anything
//! else (and any formula whose `min`/`max`/`abs` a plugin or script
//! function may redefine) stays on the rhai path.
//!
//! The program keeps the written order of every operation and reproduces
//! the rhai path's arithmetic exactly (rhai's checked decimal `+ - *`,
//! core's `/`): an error is the same `EvalAltResult` the rhai path raises —
//! same message or typed failure, same position — so it becomes the same
//! `CellError` through the same classification.

use rhai::{AST, Engine, EvalAltResult, Expr, Position, Stmt, Token};
use rust_decimal::Decimal;

use crate::compile::binding::Input;
use crate::compile::math::divide;

/// Functions of the subset; if anything but rhai's built-ins defines one of
/// these names, formulas calling them stay on the rhai path.
const FUNCTIONS: [&str; 3] = ["min", "max", "abs"];

/// A formula lowered to the native subset, as a short program over
/// registers (see [`Program`]).
#[derive(Debug, Clone)]
pub(crate) struct NativeFormula {
    program: Program,
}

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arith {
    Add,
    Subtract,
    Multiply,
    Divide,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compare {
    Equal,
    NotEqual,
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
}

impl Compare {
    fn holds(self, x: Decimal, y: Decimal) -> bool {
        match self {
            Self::Equal => x == y,
            Self::NotEqual => x != y,
            Self::Greater => x > y,
            Self::GreaterOrEqual => x >= y,
            Self::Less => x < y,
            Self::LessOrEqual => x <= y,
        }
    }
}

/// A numeric expression: the lowered formula, before it is assembled.
#[derive(Debug, Clone)]
enum Node {
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
enum Condition {
    Constant(bool),
    Compare(Compare, Box<(Node, Node)>),
    And(Vec<Condition>),
    Or(Vec<Condition>),
}

type Outcome<T> = Result<T, Box<EvalAltResult>>;

/// A register: the formula's inputs come first, then its constants, then
/// temporaries.
type Reg = u32;

/// One step of a [`Program`].
#[derive(Debug, Clone, Copy)]
enum Op {
    /// `to = x op y`, checked; the position is where rhai reports its errors.
    Arith(Arith, [Reg; 3], Position),
    /// `to = -x`.
    Negate([Reg; 2]),
    /// `to = abs(x)`.
    Abs([Reg; 2]),
    /// `to = min(x, y)`.
    Min([Reg; 3]),
    /// `to = max(x, y)`.
    Max([Reg; 3]),
    /// `to = x` (an `if` branch's value into the `if`'s register).
    Copy([Reg; 2]),
    /// Continue at this step (always a later one).
    Jump(u32),
    /// Continue at step `to` (a later one) when `x compare y` is `when`.
    Branch {
        compare: Compare,
        operands: [Reg; 2],
        when: bool,
        to: u32,
    },
}

/// A formula as steps over registers, with forward jumps for `if`, `&&`
/// and `||`: operands are evaluated in their written order, each operation
/// is the tree's, and no step allocates.
#[derive(Debug, Clone)]
struct Program {
    steps: Vec<Op>,
    /// How many inputs (the first registers).
    inputs: usize,
    /// The constants' values, in their registers' order (after the inputs).
    constants: Vec<Decimal>,
    /// Inputs, constants and temporaries.
    registers: usize,
    /// The register holding the formula's value at the end.
    result: Reg,
}

/// Where a row of [`Lanes`] stands besides its next step.
const SKIPPED: u32 = u32::MAX;
const FAILED: u32 = u32::MAX - 1;

/// A native formula's registers over a run of rows, register by register
/// (`values[register × rows + row]`), with each row's next step.
///
/// The program runs one step at a time over every row, each row following
/// its own branches (jumps only go forward, so one pass over the steps
/// serves every path): a step is a tight loop over the rows, and a register
/// is never read right after it was written.
#[derive(Debug, Default)]
pub(crate) struct Lanes {
    rows: usize,
    values: Vec<Decimal>,
    /// Per row: the next step to run, or [`SKIPPED`] or [`FAILED`].
    next: Vec<u32>,
    /// The errors of the rows that failed.
    errors: Vec<(usize, Box<EvalAltResult>)>,
    /// Where the result's register starts in `values`.
    result: usize,
}

impl Lanes {
    /// Sets input `input` (in the compiled formula's input order) of `row`.
    #[inline]
    pub(crate) fn set_input(&mut self, input: usize, row: usize, value: Decimal) {
        self.values[input * self.rows + row] = value;
    }

    /// The lane of input `input`: its value for every row.
    #[inline]
    pub(crate) fn input(&mut self, input: usize) -> &mut [Decimal] {
        &mut self.values[input * self.rows..(input + 1) * self.rows]
    }

    /// Leaves `row` out of the run (one of its inputs is not a number).
    #[inline]
    pub(crate) fn skip(&mut self, row: usize) {
        self.next[row] = SKIPPED;
    }

    /// The formula's value or error for `row` after [`NativeFormula::run`];
    /// `None` for a skipped row. An error is handed out once.
    pub(crate) fn outcome(&mut self, row: usize) -> Option<Outcome<Decimal>> {
        match self.next[row] {
            SKIPPED => None,
            FAILED => {
                let at = self.errors.iter().position(|(r, _)| *r == row)?;
                Some(Err(self.errors.swap_remove(at).1))
            }
            _ => Some(Ok(self.values[self.result + row])),
        }
    }
}

impl NativeFormula {
    /// Makes `lanes` ready for `rows` rows of this formula: every row to
    /// run, constants loaded. Set every row's inputs, then [`NativeFormula::run`].
    pub(crate) fn prepare(&self, lanes: &mut Lanes, rows: usize) {
        let program = &self.program;
        lanes.rows = rows;
        // Temporaries are written before they are read, inputs are set by
        // the caller: only the constants need loading.
        lanes.values.resize(program.registers * rows, Decimal::ZERO);
        for (k, constant) in program.constants.iter().enumerate() {
            let at = (program.inputs + k) * rows;
            lanes.values[at..at + rows].fill(*constant);
        }
        lanes.next.clear();
        lanes.next.resize(rows, 0);
        lanes.errors.clear();
        lanes.result = program.result as usize * rows;
    }

    /// Evaluates the formula for every row of `lanes` not skipped; read
    /// each row's value or error with [`Lanes::outcome`]. Errors are exactly
    /// those rhai raises.
    pub(crate) fn run(&self, lanes: &mut Lanes) {
        let rows = lanes.rows;
        let Lanes {
            values,
            next,
            errors,
            ..
        } = lanes;
        let lane = |reg: Reg| reg as usize * rows;
        // The number of steps fits in a u32 below FAILED (checked when assembled).
        for (s, &step) in (0_u32..).zip(&self.program.steps) {
            match step {
                Op::Arith(op, [x, y, to], at) => {
                    let (x, y, to) = (lane(x), lane(y), lane(to));
                    for r in 0..rows {
                        if next[r] != s {
                            continue;
                        }
                        match arith(op, values[x + r], values[y + r], at) {
                            Ok(value) => {
                                values[to + r] = value;
                                next[r] = s + 1;
                            }
                            Err(error) => {
                                next[r] = FAILED;
                                errors.push((r, error));
                            }
                        }
                    }
                }
                Op::Negate([x, to]) | Op::Abs([x, to]) | Op::Copy([x, to]) => {
                    let (x, to) = (lane(x), lane(to));
                    for r in 0..rows {
                        if next[r] == s {
                            let value = values[x + r];
                            values[to + r] = match step {
                                Op::Negate(_) => -value,
                                Op::Abs(_) => value.abs(),
                                _ => value,
                            };
                            next[r] = s + 1;
                        }
                    }
                }
                Op::Min([x, y, to]) | Op::Max([x, y, to]) => {
                    let (x, y, to) = (lane(x), lane(y), lane(to));
                    let min = matches!(step, Op::Min(_));
                    for r in 0..rows {
                        if next[r] == s {
                            let (x, y) = (values[x + r], values[y + r]);
                            // rhai's `min` is `if x <= y { x } else { y }`, its `max`
                            // `if x >= y { x } else { y }`: ties keep the first (and its scale).
                            let first = if min { x <= y } else { x >= y };
                            values[to + r] = if first { x } else { y };
                            next[r] = s + 1;
                        }
                    }
                }
                Op::Jump(to) => {
                    for n in next.iter_mut().filter(|n| **n == s) {
                        *n = to;
                    }
                }
                Op::Branch {
                    compare,
                    operands: [x, y],
                    when,
                    to,
                } => {
                    let (x, y) = (lane(x), lane(y));
                    for r in 0..rows {
                        if next[r] == s {
                            let holds = compare.holds(values[x + r], values[y + r]);
                            next[r] = if holds == when { to } else { s + 1 };
                        }
                    }
                }
            }
        }
    }

    /// Evaluates the formula over its inputs' values, in the order of the
    /// compiled formula's inputs. Errors are exactly those rhai raises.
    pub(crate) fn eval(&self, inputs: &[Decimal]) -> Outcome<Decimal> {
        let mut lanes = Lanes::default();
        self.prepare(&mut lanes, 1);
        for (k, value) in inputs.iter().enumerate() {
            lanes.set_input(k, 0, *value);
        }
        self.run(&mut lanes);
        lanes
            .outcome(0)
            .expect("a row with every input set is not skipped")
    }
}

/// `x op y` as the rhai path computes it (rhai's checked decimal `+ - *`,
/// core's `/`): the same result, and on failure the same error — rhai's own
/// words for `+ - *`, the typed failure of [`divide`] for `/`.
#[inline]
fn arith(op: Arith, x: Decimal, y: Decimal, at: Position) -> Outcome<Decimal> {
    let (value, operation, sign) = match op {
        Arith::Add => (x.checked_add(y), "Addition", '+'),
        Arith::Subtract => (x.checked_sub(y), "Subtraction", '-'),
        Arith::Multiply => (x.checked_mul(y), "Multiplication", '*'),
        Arith::Divide => return divide(x, y).map_err(|error| located(error, at)),
    };
    value.ok_or_else(|| {
        Box::new(EvalAltResult::ErrorArithmetic(
            format!("{operation} overflow: {x} {sign} {y}"),
            at,
        ))
    })
}

/// `error` at the operator, where rhai puts a registered operator's error.
#[cold]
fn located(mut error: Box<EvalAltResult>, at: Position) -> Box<EvalAltResult> {
    error.set_position(at);
    error
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

    /// The constants of the tree, each once (by value and scale).
    fn constants(&self, found: &mut Vec<Decimal>) {
        match self {
            Self::Constant(d) => {
                if !found.iter().any(|c| c.serialize() == d.serialize()) {
                    found.push(*d);
                }
            }
            Self::Input(_) => {}
            Self::Negate(x) | Self::Abs(x) => x.constants(found),
            Self::Arith(_, operands, _) | Self::Min(operands) | Self::Max(operands) => {
                operands.0.constants(found);
                operands.1.constants(found);
            }
            Self::If(parts) => {
                parts.0.constants(found);
                parts.1.constants(found);
                parts.2.constants(found);
            }
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

    fn constants(&self, found: &mut Vec<Decimal>) {
        match self {
            Self::Constant(_) => {}
            Self::Compare(_, operands) => {
                operands.0.constants(found);
                operands.1.constants(found);
            }
            Self::And(all) | Self::Or(all) => all.iter().for_each(|c| c.constants(found)),
        }
    }
}

/// Turns a tree into a [`Program`]. Temporaries are used as a stack: an
/// operation's result may reuse the register of its first operand, which
/// it reads before writing.
struct Assembler {
    steps: Vec<Op>,
    inputs: usize,
    constants: Vec<Decimal>,
    /// First free temporary, counted from the first one.
    free: usize,
    temporaries: usize,
}

impl Assembler {
    fn assemble(root: &Node, inputs: usize) -> Option<Program> {
        let mut constants = Vec::new();
        root.constants(&mut constants);
        let mut assembler = Self {
            steps: Vec::new(),
            inputs,
            constants,
            free: 0,
            temporaries: 0,
        };
        let result = assembler.number(root)?;
        let registers = inputs + assembler.constants.len() + assembler.temporaries;
        Reg::try_from(registers).ok()?;
        if u32::try_from(assembler.steps.len())
            .ok()
            .is_none_or(|n| n >= FAILED)
        {
            return None;
        }
        Some(Program {
            steps: assembler.steps,
            inputs,
            constants: assembler.constants,
            registers,
            result,
        })
    }

    fn temporary(&mut self) -> Option<Reg> {
        let reg = Reg::try_from(self.inputs + self.constants.len() + self.free).ok()?;
        self.free += 1;
        self.temporaries = self.temporaries.max(self.free);
        Some(reg)
    }

    /// Emits the steps that compute `node`; returns the register holding its value.
    fn number(&mut self, node: &Node) -> Option<Reg> {
        let mark = self.free;
        let reg = match node {
            Node::Constant(d) => {
                let k = self
                    .constants
                    .iter()
                    .position(|c| c.serialize() == d.serialize())?;
                return Reg::try_from(self.inputs + k).ok();
            }
            Node::Input(i) => return Reg::try_from(*i).ok(),
            Node::Negate(x) | Node::Abs(x) => {
                let x = self.number(x)?;
                self.free = mark;
                let to = self.temporary()?;
                self.steps.push(match node {
                    Node::Negate(_) => Op::Negate([x, to]),
                    _ => Op::Abs([x, to]),
                });
                to
            }
            Node::Arith(_, operands, _) | Node::Min(operands) | Node::Max(operands) => {
                let x = self.number(&operands.0)?;
                let y = self.number(&operands.1)?;
                self.free = mark;
                let to = self.temporary()?;
                self.steps.push(match node {
                    Node::Arith(op, _, at) => Op::Arith(*op, [x, y, to], *at),
                    Node::Min(_) => Op::Min([x, y, to]),
                    _ => Op::Max([x, y, to]),
                });
                to
            }
            Node::If(parts) => {
                let to = self.temporary()?;
                let mark = self.free;
                let mut otherwise = Vec::new();
                self.jump_unless(&parts.0, &mut otherwise)?;
                self.free = mark;
                self.branch_value(&parts.1, to)?;
                let end = self.steps.len();
                self.steps.push(Op::Jump(0));
                self.patch(&otherwise);
                self.branch_value(&parts.2, to)?;
                self.patch(&[end]);
                to
            }
        };
        Some(reg)
    }

    /// Emits `node` into register `to`.
    fn branch_value(&mut self, node: &Node, to: Reg) -> Option<()> {
        let mark = self.free;
        let value = self.number(node)?;
        if value != to {
            self.steps.push(Op::Copy([value, to]));
        }
        self.free = mark;
        Some(())
    }

    /// Emits `condition`, falling through when it holds; the jumps taken
    /// when it does not are added to `jumps`, to be patched.
    fn jump_unless(&mut self, condition: &Condition, jumps: &mut Vec<usize>) -> Option<()> {
        match condition {
            Condition::Constant(true) => {}
            Condition::Constant(false) => self.jump(jumps),
            Condition::Compare(compare, operands) => {
                self.compare(*compare, operands, false, jumps)?
            }
            Condition::And(all) => {
                for c in all {
                    self.jump_unless(c, jumps)?;
                }
            }
            Condition::Or(any) => match any.split_last() {
                None => self.jump(jumps),
                Some((last, rest)) => {
                    let mut holds = Vec::new();
                    for c in rest {
                        self.jump_if(c, &mut holds)?;
                    }
                    self.jump_unless(last, jumps)?;
                    self.patch(&holds);
                }
            },
        }
        Some(())
    }

    /// Emits `condition`, falling through when it does not hold; the jumps
    /// taken when it does are added to `jumps`, to be patched.
    fn jump_if(&mut self, condition: &Condition, jumps: &mut Vec<usize>) -> Option<()> {
        match condition {
            Condition::Constant(true) => self.jump(jumps),
            Condition::Constant(false) => {}
            Condition::Compare(compare, operands) => {
                self.compare(*compare, operands, true, jumps)?
            }
            Condition::Or(any) => {
                for c in any {
                    self.jump_if(c, jumps)?;
                }
            }
            Condition::And(all) => match all.split_last() {
                None => self.jump(jumps),
                Some((last, rest)) => {
                    let mut fails = Vec::new();
                    for c in rest {
                        self.jump_unless(c, &mut fails)?;
                    }
                    self.jump_if(last, jumps)?;
                    self.patch(&fails);
                }
            },
        }
        Some(())
    }

    fn compare(
        &mut self,
        compare: Compare,
        operands: &(Node, Node),
        when: bool,
        jumps: &mut Vec<usize>,
    ) -> Option<()> {
        let mark = self.free;
        let x = self.number(&operands.0)?;
        let y = self.number(&operands.1)?;
        self.free = mark;
        jumps.push(self.steps.len());
        self.steps.push(Op::Branch {
            compare,
            operands: [x, y],
            when,
            to: 0,
        });
        Some(())
    }

    fn jump(&mut self, jumps: &mut Vec<usize>) {
        jumps.push(self.steps.len());
        self.steps.push(Op::Jump(0));
    }

    /// Points the jumps at `steps` to the next step emitted.
    fn patch(&mut self, jumps: &[usize]) {
        // Fits: `assemble` refuses programs of FAILED steps or more.
        let here = u32::try_from(self.steps.len()).unwrap_or(FAILED);
        for &at in jumps {
            match &mut self.steps[at] {
                Op::Jump(to) | Op::Branch { to, .. } => *to = here,
                _ => {}
            }
        }
    }
}

/// Lowers a compiled formula to the native subset, or `None` when it uses
/// anything outside it. `inputs` are the formula's inputs in the order their
/// values will be passed to [`NativeFormula::eval`].
pub(crate) fn lower(ast: &AST, inputs: &[Input], options: Lowering) -> Option<NativeFormula> {
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
    let program = Assembler::assemble(&root, inputs.len())?;
    Some(NativeFormula { program })
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
    use crate::compile::binding::InputSource;
    use crate::compile::engine::build_engine;
    use crate::compile::math::FormulaFailure;
    use crate::compile::plugin::{Plugin, Registry};
    use crate::pack::limits::Limits;
    use rhai::Scope;

    const NAMES: [&str; 3] = ["a", "b", "c"];

    /// An error as the classification sees it: the typed failure it
    /// carries, or rhai's message.
    fn described(error: &EvalAltResult) -> String {
        FormulaFailure::of(error).map_or_else(|| error.to_string(), |f| format!("{f:?}"))
    }

    /// rhai as `evaluate` runs it: on a stack sized for the limits.
    fn on_stack<T>(work: impl FnOnce() -> T) -> T {
        crate::pack::limits::with_stack(&Limits::default(), work)
    }

    fn inputs() -> Vec<Input> {
        NAMES
            .iter()
            .enumerate()
            .map(|(i, n)| Input {
                name: (*n).into(),
                source: InputSource::Field(i),
            })
            .collect()
    }

    fn compile(engine: &Engine, formula: &str) -> AST {
        let mut scope = Scope::new();
        for name in NAMES {
            scope.push_dynamic(name, rhai::Dynamic::UNIT);
        }
        engine.compile_with_scope(&scope, formula).unwrap()
    }

    fn lowered(formula: &str) -> Option<NativeFormula> {
        let (engine, _) = build_engine(&Limits::default(), &[]);
        let options = Lowering::for_engine(&engine, Limits::default().max_operations);
        lower(&compile(&engine, formula), &inputs(), options)
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
        assert!(lower(&ast, &inputs(), options).is_none());
        let ast = helpers.merge(&compile(&engine, "a + b"));
        assert!(lower(&ast, &inputs(), options).is_some());
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
        assert!(lower(&compile(&engine, "abs(a)"), &inputs(), options).is_none());
        assert!(lower(&compile(&engine, "a * b"), &inputs(), options).is_some());
    }

    #[test]
    fn a_tight_operation_limit_keeps_rhai() {
        let (engine, _) = build_engine(&Limits::default(), &[]);
        let ast = compile(&engine, "a + b + c");
        let options = Lowering::for_engine(&engine, 10);
        assert!(lower(&ast, &inputs(), options).is_none());
    }

    #[test]
    fn errors_match_rhai_word_for_word() {
        let (engine, _) = build_engine(&Limits::default(), &[]);
        let options = Lowering::for_engine(&engine, 0);
        let values = [Decimal::ONE, Decimal::ZERO, Decimal::MAX];
        for formula in ["a / b", "c + a", "c * c", "-c - c", "c / 0.1"] {
            let ast = compile(&engine, formula);
            let native = lower(&ast, &inputs(), options).unwrap();
            let mut scope = Scope::new();
            for (name, value) in NAMES.iter().zip(values) {
                scope.push_constant(*name, value);
            }
            let expected =
                on_stack(|| engine.eval_ast_with_scope::<rhai::Dynamic>(&mut scope, &ast))
                    .unwrap_err();
            let actual = native.eval(&values).unwrap_err();
            assert_eq!(described(&actual), described(&expected), "{formula}");
            assert_eq!(actual.position(), expected.position(), "{formula}");
        }
        let by_zero = lowered("a / b").unwrap().eval(&values).unwrap_err();
        assert_eq!(
            FormulaFailure::of(&by_zero),
            Some(FormulaFailure::division_by_zero("Division by zero: 1 / 0"))
        );
    }

    /// Rows run together each take their own branches and fail on their
    /// own, as rhai row by row; a skipped row gives no outcome.
    #[test]
    fn rows_in_lanes_match_rhai_row_by_row() {
        let (engine, _) = build_engine(&Limits::default(), &[]);
        let options = Lowering::for_engine(&engine, 0);
        let numbers = ["0", "1", "-2", "0.5", "79228162514264337593543950335"];
        let rows: Vec<[Decimal; 3]> = (0..numbers.len().pow(3))
            .map(|k| {
                let at = [k % 5, k / 5 % 5, k / 25];
                at.map(|i| numbers[i].parse().unwrap())
            })
            .collect();
        for formula in [
            "if a > b && (c != 0 || a < 0) { a / c } else { b - c * 2 }",
            "max(a / b, c) + min(-a, abs(c))",
            "if a == 0 || b / a > 1 { c } else if b <= c { a * b } else { 7 }",
        ] {
            let ast = compile(&engine, formula);
            let native = lower(&ast, &inputs(), options).unwrap();
            let mut lanes = Lanes::default();
            native.prepare(&mut lanes, rows.len() + 1);
            for (r, row) in rows.iter().enumerate() {
                for (k, value) in row.iter().enumerate() {
                    lanes.set_input(k, r, *value);
                }
            }
            lanes.skip(rows.len());
            native.run(&mut lanes);
            assert!(lanes.outcome(rows.len()).is_none());
            for (r, row) in rows.iter().enumerate() {
                let mut scope = Scope::new();
                for (name, value) in NAMES.iter().zip(row) {
                    scope.push_constant(*name, *value);
                }
                let expected =
                    on_stack(|| engine.eval_ast_with_scope::<rhai::Dynamic>(&mut scope, &ast))
                        .map(|v| v.as_decimal().unwrap().to_string())
                        .map_err(|e| (described(&e), e.position()));
                let actual = lanes
                    .outcome(r)
                    .unwrap()
                    .map(|v| v.to_string())
                    .map_err(|e| (described(&e), e.position()));
                assert_eq!(actual, expected, "{formula} over {row:?}");
            }
        }
    }
}
