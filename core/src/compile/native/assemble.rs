//! Assembling a lowered tree into a [`Program`]: steps over registers,
//! with forward jumps for `if`, `&&` and `||`.

use rust_decimal::Decimal;

use crate::compile::native::lower::{Condition, Node};
use crate::compile::native::run::{Compare, FAILED, Op, Program, Reg};

/// The program computing `root`, whose first `inputs` registers are the
/// formula's inputs; `None` when it needs more registers or steps than fit.
pub(super) fn assemble(root: &Node, inputs: usize) -> Option<Program> {
    Assembler::assemble(root, inputs)
}

impl Node {
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
