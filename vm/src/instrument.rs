//! What both tiers add to translated code for fuel metering and epoch interruption, defined
//! once so that the interpreter and the JIT cannot drift apart.
//!
//! # Fuel
//!
//! Each Wasm operator costs one unit of fuel, except those that do no work of their own:
//! `nop`, `drop`, `block`, `loop`, `unreachable`, `return`, `else` and `end` cost nothing
//! ([`operator_cost`], the rule Wasmtime uses).
//!
//! Fuel is charged per *region*: a run of operators that always executes whole once its
//! first operator executes (unless an operator in it traps). A region ends after every
//! operator that transfers control or may do so (`if`, `else`, `br`, `br_if`, `br_table`,
//! `return`, `unreachable`) or that lets other code run (`call`, `call_indirect`), and
//! before every label (after `loop`, after `end`): see [`ends_region`]. A translator emits,
//! at the start of every region whose cost is not zero, one *charge* of the region's total
//! cost: the charge subtracts it from the store's fuel (`VMStoreContext::fuel`) or, when
//! less fuel is left than that, traps with `OutOfFuel` *before* the region runs, leaving the
//! fuel unchanged.
//!
//! Both tiers place the charges where [`Meter::before`] says, in the same order, so a
//! program uses the same fuel on every engine and runs out at the same region: the same
//! Wasm side effects have happened when `OutOfFuel` traps, and the same fuel is left
//! afterwards. A call charges the caller's region (the `call` included) before the
//! callee's entry region, so a callee that runs out sees the caller's charge already made.
//! Host functions cost nothing beyond their `call`.
//!
//! # Epochs
//!
//! With epoch interruption, a check that traps with `Interrupt` when the engine's epoch
//! (`*VMStoreContext::epoch_counter`) has reached the store's deadline
//! (`VMStoreContext::epoch_deadline`) runs at every function entry and every loop header
//! (so also on every backward branch). At a place with both, the epoch check comes first.
//!
//! Neither is emitted when the engine does not ask for it ([`Instrumentation`]): code
//! without them costs nothing extra.

use kestrel_parser::wasmparser::{self, Operator};

/// What the engine asks translators to add to code; fixed per engine, recorded in each
/// `RuntimeModule`, so cached translations always match the stores that run them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Instrumentation {
    /// Charge fuel per region.
    pub fuel: bool,
    /// Check the epoch deadline at function entries and loop headers.
    pub epochs: bool,
}

impl Instrumentation {
    /// Whether anything is added at all.
    pub fn any(self) -> bool {
        self.fuel || self.epochs
    }
}

/// The fuel cost of one operator.
pub fn operator_cost(operator: &Operator<'_>) -> u64 {
    match operator {
        Operator::Nop
        | Operator::Drop
        | Operator::Block { .. }
        | Operator::Loop { .. }
        | Operator::Unreachable
        | Operator::Return
        | Operator::Else
        | Operator::End => 0,
        _ => 1,
    }
}

/// Whether a new fuel region starts right after `operator`.
pub fn ends_region(operator: &Operator<'_>) -> bool {
    matches!(
        operator,
        Operator::Loop { .. }
            | Operator::If { .. }
            | Operator::Else
            | Operator::End
            | Operator::Br { .. }
            | Operator::BrIf { .. }
            | Operator::BrTable { .. }
            | Operator::Return
            | Operator::Unreachable
            | Operator::Call { .. }
            | Operator::CallIndirect { .. }
            | Operator::CallRef { .. }
            | Operator::ReturnCall { .. }
            | Operator::ReturnCallIndirect { .. }
            | Operator::ReturnCallRef { .. }
            | Operator::BrOnNull { .. }
            | Operator::BrOnNonNull { .. }
            | Operator::Throw { .. }
            | Operator::ThrowRef
            | Operator::TryTable { .. }
    )
}

/// What to emit before one operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Probe {
    /// Check the epoch deadline first.
    pub check_epoch: bool,
    /// Then charge this much fuel (nothing when 0).
    pub fuel: u64,
}

/// Tells a translator, operator by operator, where charges and epoch checks go.
///
/// Call [`Meter::before`] once for *every* operator of the body, in order (those in
/// unreachable code too, even if the translator skips them), and emit the returned
/// [`Probe`] before the operator's own code when the position is reachable.
#[derive(Debug)]
pub struct Meter {
    instrumentation: Instrumentation,
    /// The cost of each region, in order (empty without fuel metering).
    region_costs: Vec<u64>,
    /// The region the next operator belongs to.
    region: usize,
    /// The next operator starts a region.
    region_start: bool,
    /// The next operator is the first of the body or follows a `loop`.
    epoch_check: bool,
}

impl Meter {
    /// A meter for the function body `body`; reads the body once more when metering fuel.
    pub fn new(
        instrumentation: Instrumentation,
        body: &wasmparser::FunctionBody<'_>,
    ) -> Result<Meter, wasmparser::BinaryReaderError> {
        let mut region_costs = Vec::new();
        if instrumentation.fuel {
            let mut operators = body.get_operators_reader()?;
            let mut cost = 0;
            while !operators.eof() {
                let operator = operators.read()?;
                cost += operator_cost(&operator);
                if ends_region(&operator) {
                    region_costs.push(cost);
                    cost = 0;
                }
            }
            region_costs.push(cost);
        }
        Ok(Meter {
            instrumentation,
            region_costs,
            region: 0,
            region_start: true,
            epoch_check: true,
        })
    }

    /// What to emit before `operator`, the next operator of the body.
    pub fn before(&mut self, operator: &Operator<'_>) -> Probe {
        let probe = Probe {
            check_epoch: self.instrumentation.epochs && self.epoch_check,
            fuel: if self.region_start {
                self.region_costs.get(self.region).copied().unwrap_or(0)
            } else {
                0
            },
        };
        self.region_start = ends_region(operator);
        if self.region_start {
            self.region += 1;
        }
        self.epoch_check = matches!(operator, Operator::Loop { .. });
        debug_assert!(
            probe.fuel == 0 || !matches!(operator, Operator::End | Operator::Else),
            "a region starting at `end` or `else` costs nothing"
        );
        probe
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probes(instrumentation: Instrumentation, wat_body: &[u8]) -> Vec<Probe> {
        let body = wasmparser::FunctionBody::new(wasmparser::BinaryReader::new(wat_body, 0));
        let mut meter = Meter::new(instrumentation, &body).unwrap();
        let mut operators = body.get_operators_reader().unwrap();
        let mut probes = Vec::new();
        while !operators.eof() {
            probes.push(meter.before(&operators.read().unwrap()));
        }
        probes
    }

    #[test]
    fn loops_charge_their_body_at_the_header() {
        // (loop (global.set 0 (i32.add (global.get 0) (i32.const 1))) (br 0)) end
        let body = [
            0x00, // no locals
            0x03, 0x40, // loop
            0x23, 0x00, // global.get 0
            0x41, 0x01, // i32.const 1
            0x6a, // i32.add
            0x24, 0x00, // global.set 0
            0x0c, 0x00, // br 0
            0x0b, // end (loop)
            0x0b, // end (function)
        ];
        let all = Instrumentation {
            fuel: true,
            epochs: true,
        };
        let fuel: Vec<u64> = probes(all, &body).iter().map(|p| p.fuel).collect();
        // The entry region is just `loop` (free); the loop body's five operators are
        // charged at its first operator; the region after `br` (dead `end`) and after the
        // loop's `end` cost nothing.
        assert_eq!(fuel, [0, 5, 0, 0, 0, 0, 0, 0]);
        let epochs: Vec<bool> = probes(all, &body).iter().map(|p| p.check_epoch).collect();
        assert_eq!(
            epochs,
            [true, true, false, false, false, false, false, false]
        );
        let none = probes(Instrumentation::default(), &body);
        assert!(none.iter().all(|probe| *probe == Probe::default()));
    }

    #[test]
    fn calls_end_regions() {
        // i32.const 1; call 0; drop; nop; i32.const 2; drop; end
        let body = [
            0x00, 0x41, 0x01, 0x10, 0x00, 0x1a, 0x01, 0x41, 0x02, 0x1a, 0x0b,
        ];
        let fuel = Instrumentation {
            fuel: true,
            epochs: false,
        };
        let charged: Vec<u64> = probes(fuel, &body).iter().map(|p| p.fuel).collect();
        assert_eq!(charged, [2, 0, 1, 0, 0, 0, 0]);
    }
}
