//! Runs one `.wast` script on the public `kestrel` API.
//!
//! Every directive gets exactly one [`Outcome`]. A directive passes only when the engine
//! did what the script asserts; anything the harness or the engine cannot do is a failure,
//! or a skip with a reason when the directive belongs to a proposal no engine implements
//! (threads, exceptions, stack switching, components, custom-section checks).
//!
//! The script runs in a fresh [`Store`]; its modules import the `spectest` module and
//! whatever earlier instances were `register`ed.

use crate::spectest::define_spectest;
use crate::{FileReport, RunOptions};
use kestrel::{Engine, ErrorKind, ExternRef, Func, Instance, Linker, Module, Store, Val, ValType};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use wast::core::{AbstractHeapType, HeapType, NanPattern, V128Pattern};
use wast::core::{WastArgCore, WastRetCore};
use wast::lexer::Lexer;
use wast::parser::{self, ParseBuffer};
use wast::token::{F32, F64, Id, Span};
use wast::{
    QuoteWat, QuoteWatTest, Wast, WastArg, WastDirective, WastExecute, WastInvoke, WastRet, Wat,
};

/// The result of one directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    /// The directive failed; the text says what was expected and what happened.
    Fail(String),
    /// The directive was not run, for the reason given.
    Skip(String),
}

fn fail(message: impl Into<String>) -> Outcome {
    Outcome::Fail(message.into())
}

fn skip(reason: impl Into<String>) -> Outcome {
    Outcome::Skip(reason.into())
}

/// Parses and runs the script `text` (read from `path`), recording every directive in
/// `report`.
///
/// Panics propagate: [`crate::run_file`] catches them and uses `report` to account for the
/// directives that did not run.
pub(crate) fn run_script(text: &str, path: &Path, options: &RunOptions, report: &mut FileReport) {
    let display_path = path.display().to_string();
    let buffer = match parse_buffer(text) {
        Ok(buffer) => buffer,
        Err(error) => {
            report.record_script_error(&display_path, text, &error);
            return;
        }
    };
    let script = match parser::parse::<Wast>(&buffer) {
        Ok(script) => script,
        Err(error) => {
            report.record_script_error(&display_path, text, &error);
            return;
        }
    };
    report.directives_total = Some(script.directives.len());

    let mut runner = match Runner::new(options) {
        Ok(runner) => runner,
        Err(error) => {
            // Without an engine nothing can run: every directive fails with the reason.
            let message = format!("could not create the engine: {error}");
            for directive in &script.directives {
                let line = line_of(text, directive.span());
                report.record(
                    &display_path,
                    line,
                    directive_name(directive),
                    fail(&message),
                );
            }
            return;
        }
    };
    for directive in script.directives {
        let line = line_of(text, directive.span());
        let name = directive_name(&directive);
        let outcome = runner.run_directive(directive);
        report.record(&display_path, line, name, outcome);
    }
}

/// A parse buffer for spec text. The scripts deliberately contain bidirectional-override
/// and other confusable characters in strings (`names.wast`), which the lexer rejects by
/// default to protect human readers of ordinary source.
fn parse_buffer(text: &str) -> wast::parser::Result<ParseBuffer<'_>> {
    let mut lexer = Lexer::new(text);
    lexer.allow_confusing_unicode(true);
    ParseBuffer::new_with_lexer(lexer)
}

/// The 1-based line of `span` in `text`.
pub(crate) fn line_of(text: &str, span: Span) -> usize {
    span.linecol_in(text).0 + 1
}

fn directive_name(directive: &WastDirective<'_>) -> &'static str {
    match directive {
        WastDirective::Module(_) => "module",
        WastDirective::ModuleDefinition(_) => "module definition",
        WastDirective::ModuleInstance { .. } => "module instance",
        WastDirective::AssertMalformed { .. } => "assert_malformed",
        WastDirective::AssertInvalid { .. } => "assert_invalid",
        WastDirective::AssertInvalidCustom { .. } => "assert_invalid_custom",
        WastDirective::AssertMalformedCustom { .. } => "assert_malformed_custom",
        WastDirective::Register { .. } => "register",
        WastDirective::Invoke(_) => "invoke",
        WastDirective::AssertTrap {
            exec: WastExecute::Wat(_),
            ..
        } => "assert_trap (module)",
        WastDirective::AssertTrap { .. } => "assert_trap",
        WastDirective::AssertReturn { .. } => "assert_return",
        WastDirective::AssertExhaustion { .. } => "assert_exhaustion",
        WastDirective::AssertUnlinkable { .. } => "assert_unlinkable",
        WastDirective::AssertException { .. } => "assert_exception",
        WastDirective::AssertSuspension { .. } => "assert_suspension",
        WastDirective::Thread(_) => "thread",
        WastDirective::Wait { .. } => "wait",
    }
}

/// What running a module or an invocation produced, when the harness itself could run it.
type Executed = Result<Vec<Val>, kestrel::Error>;

/// The state of one script: the store, the linker with `spectest` and registered
/// instances, and the named instances and module definitions.
struct Runner {
    engine: Engine,
    store: Store<()>,
    linker: Linker<()>,
    /// The most recently instantiated module, the default target of `invoke` and `get`.
    current: Option<Instance>,
    instances: HashMap<String, Instance>,
    definitions: HashMap<String, Module>,
    last_definition: Option<Module>,
}

impl Runner {
    fn new(options: &RunOptions) -> kestrel::Result<Runner> {
        let engine = Engine::new(&options.config())?;
        let mut store = Store::new(&engine, ());
        let mut linker = Linker::new(&engine);
        linker.allow_shadowing(true);
        define_spectest(&mut linker, &mut store)?;
        Ok(Runner {
            engine,
            store,
            linker,
            current: None,
            instances: HashMap::new(),
            definitions: HashMap::new(),
            last_definition: None,
        })
    }

    fn run_directive(&mut self, directive: WastDirective<'_>) -> Outcome {
        match directive {
            WastDirective::Module(module) => self.module(module),
            WastDirective::ModuleDefinition(module) => self.module_definition(module),
            WastDirective::ModuleInstance {
                instance, module, ..
            } => self.module_instance(instance, module),
            WastDirective::Register { name, module, .. } => self.register(name, module),
            WastDirective::Invoke(invoke) => match self.invoke(&invoke) {
                Ok(Ok(_)) => Outcome::Pass,
                Ok(Err(error)) => fail(format!("unexpected error: {error}")),
                Err(outcome) => outcome,
            },
            WastDirective::AssertReturn { exec, results, .. } => self.assert_return(exec, &results),
            WastDirective::AssertTrap { exec, message, .. } => match self.execute(exec) {
                Ok(executed) => expect_trap(executed, message),
                Err(outcome) => outcome,
            },
            WastDirective::AssertExhaustion { call, message, .. } => match self.invoke(&call) {
                Ok(executed) => expect_trap(executed, message),
                Err(outcome) => outcome,
            },
            WastDirective::AssertInvalid {
                module, message, ..
            } => self.assert_invalid(module, message),
            WastDirective::AssertMalformed {
                module, message, ..
            } => self.assert_malformed(module, message),
            WastDirective::AssertUnlinkable {
                module, message, ..
            } => self.assert_unlinkable(module, message),
            WastDirective::AssertInvalidCustom { .. }
            | WastDirective::AssertMalformedCustom { .. } => {
                skip("custom section contents are not checked by the engine")
            }
            WastDirective::AssertException { .. } => skip("exception handling is not implemented"),
            WastDirective::AssertSuspension { .. } => skip("stack switching is not implemented"),
            WastDirective::Thread(_) | WastDirective::Wait { .. } => {
                skip("threads are not implemented")
            }
        }
    }

    // ----- modules -----

    /// Encodes and compiles `module`. `Err` is the outcome of a directive that cannot go on.
    fn compile(&self, module: QuoteWat<'_>) -> Result<Module, Outcome> {
        let bytes = encode(module)?
            .map_err(|message| fail(format!("the module text does not parse: {message}")))?;
        Module::new(&self.engine, bytes)
            .map_err(|error| fail(format!("the module failed to compile: {error}")))
    }

    fn instantiate(&mut self, module: &Module) -> Result<Instance, Outcome> {
        self.linker
            .instantiate(&mut self.store, module)
            .map_err(|error| fail(format!("the module failed to instantiate: {error:#}")))
    }

    fn module(&mut self, module: QuoteWat<'_>) -> Outcome {
        let name = module.name().map(|id| id.name().to_owned());
        let compiled = match self.compile(module) {
            Ok(compiled) => compiled,
            Err(outcome) => return outcome,
        };
        match self.instantiate(&compiled) {
            Ok(instance) => {
                self.current = Some(instance);
                if let Some(name) = name {
                    self.instances.insert(name, instance);
                }
                Outcome::Pass
            }
            Err(outcome) => outcome,
        }
    }

    fn module_definition(&mut self, module: QuoteWat<'_>) -> Outcome {
        let name = module.name().map(|id| id.name().to_owned());
        match self.compile(module) {
            Ok(compiled) => {
                if let Some(name) = name {
                    self.definitions.insert(name, compiled.clone());
                }
                self.last_definition = Some(compiled);
                Outcome::Pass
            }
            Err(outcome) => outcome,
        }
    }

    fn module_instance(&mut self, instance: Option<Id<'_>>, module: Option<Id<'_>>) -> Outcome {
        let definition = match module {
            Some(id) => self.definitions.get(id.name()).cloned(),
            None => self.last_definition.clone(),
        };
        let Some(definition) = definition else {
            return fail(format!(
                "no module definition named {}",
                module.map_or("(last)", |id| id.name())
            ));
        };
        match self.instantiate(&definition) {
            Ok(created) => {
                self.current = Some(created);
                if let Some(id) = instance {
                    self.instances.insert(id.name().to_owned(), created);
                }
                Outcome::Pass
            }
            Err(outcome) => outcome,
        }
    }

    fn register(&mut self, as_name: &str, module: Option<Id<'_>>) -> Outcome {
        let instance = match self.instance(module) {
            Ok(instance) => instance,
            Err(outcome) => return outcome,
        };
        match self.linker.instance(&mut self.store, as_name, instance) {
            Ok(_) => Outcome::Pass,
            Err(error) => fail(format!("could not register `{as_name}`: {error}")),
        }
    }

    fn instance(&self, module: Option<Id<'_>>) -> Result<Instance, Outcome> {
        match module {
            Some(id) => self
                .instances
                .get(id.name())
                .copied()
                .ok_or_else(|| fail(format!("no module instance named ${}", id.name()))),
            None => self
                .current
                .ok_or_else(|| fail("no module has been instantiated yet")),
        }
    }

    // ----- execution -----

    fn execute(&mut self, exec: WastExecute<'_>) -> Result<Executed, Outcome> {
        match exec {
            WastExecute::Invoke(invoke) => self.invoke(&invoke),
            WastExecute::Get { module, global, .. } => {
                let instance = self.instance(module)?;
                let global = instance
                    .get_global(&mut self.store, global)
                    .ok_or_else(|| fail(format!("no exported global named `{global}`")))?;
                Ok(Ok(vec![global.get(&mut self.store)]))
            }
            WastExecute::Wat(wat) => {
                if matches!(wat, Wat::Component(_)) {
                    return Err(skip("the component model is not implemented"));
                }
                let compiled = self.compile(QuoteWat::Wat(wat))?;
                Ok(self
                    .linker
                    .instantiate(&mut self.store, &compiled)
                    .map(|_| Vec::new()))
            }
        }
    }

    fn invoke(&mut self, invoke: &WastInvoke<'_>) -> Result<Executed, Outcome> {
        let instance = self.instance(invoke.module)?;
        let func: Func = instance
            .get_func(&mut self.store, invoke.name)
            .ok_or_else(|| fail(format!("no exported function named `{}`", invoke.name)))?;
        let mut params = Vec::with_capacity(invoke.args.len());
        for arg in &invoke.args {
            params.push(self.arg(arg)?);
        }
        let ty = func.ty(&self.store);
        let mut results: Vec<Val> = ty.results().iter().map(|ty| default_val(*ty)).collect();
        Ok(func
            .call(&mut self.store, &params, &mut results)
            .map(|()| results))
    }

    fn arg(&mut self, arg: &WastArg<'_>) -> Result<Val, Outcome> {
        let WastArg::Core(arg) = arg else {
            return Err(skip("component-model values are not supported"));
        };
        Ok(match arg {
            WastArgCore::I32(value) => Val::I32(*value),
            WastArgCore::I64(value) => Val::I64(*value),
            WastArgCore::F32(value) => Val::F32(value.bits),
            WastArgCore::F64(value) => Val::F64(value.bits),
            WastArgCore::V128(value) => Val::V128(u128::from_le_bytes(value.to_le_bytes())),
            WastArgCore::RefNull(heap_type) => match heap_type_family(heap_type) {
                Some(HeapFamily::Func) => Val::FuncRef(None),
                Some(HeapFamily::Extern) => Val::ExternRef(None),
                None => {
                    return Err(fail(format!(
                        "unsupported argument (ref.null {})",
                        heap_type_name(heap_type)
                    )));
                }
            },
            WastArgCore::RefExtern(value) => {
                Val::ExternRef(Some(ExternRef::new(&mut self.store, *value)))
            }
            WastArgCore::RefHost(value) => {
                return Err(fail(format!("unsupported argument (ref.host {value})")));
            }
        })
    }

    // ----- assertions -----

    fn assert_return(&mut self, exec: WastExecute<'_>, expected: &[WastRet<'_>]) -> Outcome {
        let values = match self.execute(exec) {
            Ok(Ok(values)) => values,
            Ok(Err(error)) => {
                return fail(format!(
                    "expected {}, got error: {error}",
                    display_rets(expected)
                ));
            }
            Err(outcome) => return outcome,
        };
        let mut patterns = Vec::with_capacity(expected.len());
        for ret in expected {
            match ret {
                WastRet::Core(core) => patterns.push(core),
                _ => return skip("component-model values are not supported"),
            }
        }
        if values.len() != patterns.len() {
            return fail(format!(
                "expected {}, got {}",
                display_rets(expected),
                self.display_vals(&values)
            ));
        }
        for (value, pattern) in values.iter().zip(&patterns) {
            match self.matches(value, pattern) {
                Ok(true) => {}
                Ok(false) => {
                    return fail(format!(
                        "expected {}, got {}",
                        display_rets(expected),
                        self.display_vals(&values)
                    ));
                }
                Err(unsupported) => return fail(unsupported),
            }
        }
        Outcome::Pass
    }

    /// Whether `value` matches `pattern`; `Err` for patterns the harness cannot check.
    fn matches(&self, value: &Val, pattern: &WastRetCore<'_>) -> Result<bool, String> {
        Ok(match (pattern, value) {
            (WastRetCore::I32(expected), Val::I32(actual)) => expected == actual,
            (WastRetCore::I64(expected), Val::I64(actual)) => expected == actual,
            (WastRetCore::F32(expected), Val::F32(actual)) => f32_matches(expected, *actual),
            (WastRetCore::F64(expected), Val::F64(actual)) => f64_matches(expected, *actual),
            (WastRetCore::V128(expected), Val::V128(actual)) => v128_matches(expected, *actual),
            (WastRetCore::RefNull(heap_type), value) => {
                let family = match heap_type {
                    None => None,
                    Some(heap_type) => match heap_type_family(heap_type) {
                        Some(family) => Some(family),
                        None => {
                            return Err(format!(
                                "unsupported result pattern (ref.null {})",
                                heap_type_name(heap_type)
                            ));
                        }
                    },
                };
                match value {
                    Val::FuncRef(None) => family != Some(HeapFamily::Extern),
                    Val::ExternRef(None) => family != Some(HeapFamily::Func),
                    _ => false,
                }
            }
            (WastRetCore::RefExtern(None), value) => matches!(value, Val::ExternRef(Some(_))),
            (WastRetCore::RefExtern(Some(expected)), Val::ExternRef(Some(reference))) => {
                reference.data(&self.store).downcast_ref::<u32>() == Some(expected)
            }
            (WastRetCore::RefFunc(_), value) => matches!(value, Val::FuncRef(Some(_))),
            (WastRetCore::Either(cases), value) => {
                let mut first_error = None;
                for case in cases {
                    match self.matches(value, case) {
                        Ok(true) => return Ok(true),
                        Ok(false) => {}
                        Err(error) => first_error = first_error.or(Some(error)),
                    }
                }
                match first_error {
                    Some(error) => return Err(error),
                    None => false,
                }
            }
            (
                WastRetCore::RefHost(_)
                | WastRetCore::RefAny
                | WastRetCore::RefEq
                | WastRetCore::RefArray
                | WastRetCore::RefStruct
                | WastRetCore::RefI31
                | WastRetCore::RefI31Shared,
                _,
            ) => {
                return Err(format!(
                    "unsupported result pattern ({})",
                    display_ret(pattern)
                ));
            }
            // A value of another type than the pattern's.
            _ => false,
        })
    }

    fn display_vals(&self, values: &[Val]) -> String {
        if values.is_empty() {
            return "no values".to_owned();
        }
        let parts: Vec<String> = values.iter().map(|value| self.display_val(value)).collect();
        parts.join(" ")
    }

    fn display_val(&self, value: &Val) -> String {
        match value {
            Val::I32(value) => format!("(i32.const {value})"),
            Val::I64(value) => format!("(i64.const {value})"),
            Val::F32(bits) => format!(
                "(f32.const {:?} (bits {bits:#010x}))",
                f32::from_bits(*bits)
            ),
            Val::F64(bits) => format!(
                "(f64.const {:?} (bits {bits:#018x}))",
                f64::from_bits(*bits)
            ),
            Val::V128(bits) => format!("(v128.const i32x4 {})", v128_i32_lanes(*bits)),
            Val::FuncRef(None) => "(ref.null func)".to_owned(),
            Val::FuncRef(Some(_)) => "(ref.func)".to_owned(),
            Val::ExternRef(None) => "(ref.null extern)".to_owned(),
            Val::ExternRef(Some(reference)) => {
                match reference.data(&self.store).downcast_ref::<u32>() {
                    Some(value) => format!("(ref.extern {value})"),
                    None => "(ref.extern <host value>)".to_owned(),
                }
            }
        }
    }
}

/// `Ok(bytes)`, `Ok(Err(text parse error))`, or `Err(outcome)` for what cannot be run.
fn encode(module: QuoteWat<'_>) -> Result<Result<Vec<u8>, String>, Outcome> {
    let mut module = module;
    if matches!(
        module,
        QuoteWat::QuoteComponent(..) | QuoteWat::Wat(Wat::Component(_))
    ) {
        return Err(skip("the component model is not implemented"));
    }
    Ok(match module.to_test() {
        Ok(QuoteWatTest::Binary(bytes)) => Ok(bytes),
        Ok(QuoteWatTest::Text(text)) => encode_text(&text),
        Err(error) => Err(error.message()),
    })
}

fn encode_text(text: &[u8]) -> Result<Vec<u8>, String> {
    let text = std::str::from_utf8(text).map_err(|_| "malformed UTF-8 encoding".to_owned())?;
    let buffer = parse_buffer(text).map_err(|error| error.message())?;
    let mut wat = parser::parse::<Wat<'_>>(&buffer).map_err(|error| error.message())?;
    if matches!(wat, Wat::Component(_)) {
        return Err("the component model is not implemented".to_owned());
    }
    wat.encode().map_err(|error| error.message())
}

impl Runner {
    fn assert_invalid(&mut self, module: QuoteWat<'_>, message: &str) -> Outcome {
        let bytes = match encode(module) {
            Ok(Ok(bytes)) => bytes,
            // The text tooling rejected the module (an unresolvable name, say): the engine's
            // validator never saw it, so this says nothing about Kestrel.
            Ok(Err(text_error)) => {
                return skip(format!(
                    "the module text does not parse ({text_error}), so the validator cannot be tested"
                ));
            }
            Err(outcome) => return outcome,
        };
        expect_rejected(Module::new(&self.engine, bytes), "an invalid", message)
    }

    fn assert_malformed(&mut self, module: QuoteWat<'_>, message: &str) -> Outcome {
        let bytes = match encode(module) {
            Ok(Ok(bytes)) => bytes,
            // Rejected by the text parser: malformed as expected (Wasmtime's harness counts
            // these the same way).
            Ok(Err(_)) => return Outcome::Pass,
            Err(outcome) => return outcome,
        };
        expect_rejected(Module::new(&self.engine, bytes), "a malformed", message)
    }

    fn assert_unlinkable(&mut self, module: Wat<'_>, message: &str) -> Outcome {
        if matches!(module, Wat::Component(_)) {
            return skip("the component model is not implemented");
        }
        let compiled = match self.compile(QuoteWat::Wat(module)) {
            Ok(compiled) => compiled,
            Err(outcome) => return outcome,
        };
        match self.linker.instantiate(&mut self.store, &compiled) {
            Ok(_) => fail(format!(
                "expected a link error `{message}`, but the module instantiated"
            )),
            Err(error) if error.kind() == ErrorKind::Link => {
                if messages_match(message, &error.to_string()) {
                    Outcome::Pass
                } else {
                    fail(format!("expected link error `{message}`, got `{error}`"))
                }
            }
            Err(error) => fail(format!(
                "expected link error `{message}`, got {:?} error `{error}`",
                error.kind()
            )),
        }
    }
}

fn expect_rejected(result: kestrel::Result<Module>, what: &str, message: &str) -> Outcome {
    match result {
        Ok(_) => fail(format!(
            "expected {what} module (`{message}`), but it compiled"
        )),
        Err(error) if error.kind() == ErrorKind::Parse => Outcome::Pass,
        Err(error) => fail(format!(
            "expected {what} module (`{message}`), got {:?} error `{error}`",
            error.kind()
        )),
    }
}

fn expect_trap(executed: Executed, message: &str) -> Outcome {
    match executed {
        Ok(values) => fail(format!(
            "expected trap `{message}`, got {} value(s) and no trap",
            values.len()
        )),
        Err(error) => {
            let is_trap = error.kind() == ErrorKind::Trap || error.trap_code().is_some();
            let code_matches = error
                .trap_code()
                .is_some_and(|code| messages_match(message, code.message()));
            if is_trap && (code_matches || messages_match(message, &error.to_string())) {
                Outcome::Pass
            } else {
                fail(format!("expected trap `{message}`, got `{error}`"))
            }
        }
    }
}

/// Loose comparison of an expected error message with ours: either contains the other.
pub fn messages_match(expected: &str, actual: &str) -> bool {
    let expected = expected.trim();
    let actual = actual.trim();
    !actual.is_empty() && (expected.contains(actual) || actual.contains(expected))
}

fn default_val(ty: ValType) -> Val {
    match ty {
        ValType::I32 => Val::I32(0),
        ValType::I64 => Val::I64(0),
        ValType::F32 => Val::F32(0),
        ValType::F64 => Val::F64(0),
        ValType::V128 => Val::V128(0),
        ValType::Ref(reference) if reference.heap_type.is_func() => Val::FuncRef(None),
        ValType::Ref(_) => Val::ExternRef(None),
    }
}

// ----- values and patterns -----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HeapFamily {
    Func,
    Extern,
}

/// Which of the two reference families `kestrel::Val` represents a heap type belongs to.
fn heap_type_family(heap_type: &HeapType<'_>) -> Option<HeapFamily> {
    match heap_type {
        HeapType::Abstract {
            shared: false,
            ty: AbstractHeapType::Func | AbstractHeapType::NoFunc,
        } => Some(HeapFamily::Func),
        HeapType::Abstract {
            shared: false,
            ty: AbstractHeapType::Extern | AbstractHeapType::NoExtern,
        } => Some(HeapFamily::Extern),
        // A concrete type in a `ref.null` is a function type until GC lands.
        HeapType::Concrete(_) => Some(HeapFamily::Func),
        _ => None,
    }
}

fn heap_type_name(heap_type: &HeapType<'_>) -> String {
    match heap_type {
        HeapType::Abstract { shared, ty } => {
            let name = format!("{ty:?}").to_lowercase();
            if *shared {
                format!("(shared {name})")
            } else {
                name
            }
        }
        HeapType::Concrete(index) | HeapType::Exact(index) => format!("{index:?}"),
    }
}

fn f32_matches(expected: &NanPattern<F32>, bits: u32) -> bool {
    match expected {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff == 0x7fc0_0000,
        NanPattern::ArithmeticNan => bits & 0x7fc0_0000 == 0x7fc0_0000,
        NanPattern::Value(expected) => expected.bits == bits,
    }
}

fn f64_matches(expected: &NanPattern<F64>, bits: u64) -> bool {
    match expected {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
        NanPattern::ArithmeticNan => bits & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000,
        NanPattern::Value(expected) => expected.bits == bits,
    }
}

fn v128_matches(expected: &V128Pattern, bits: u128) -> bool {
    let bytes = bits.to_le_bytes();
    match expected {
        V128Pattern::I8x16(lanes) => lanes
            .iter()
            .zip(bytes)
            .all(|(expected, actual)| *expected as u8 == actual),
        V128Pattern::I16x8(lanes) => lanes
            .iter()
            .zip(bytes.chunks_exact(2))
            .all(|(e, a)| *e == i16::from_le_bytes(a.try_into().expect("chunk of 2"))),
        V128Pattern::I32x4(lanes) => lanes
            .iter()
            .zip(bytes.chunks_exact(4))
            .all(|(e, a)| *e == i32::from_le_bytes(a.try_into().expect("chunk of 4"))),
        V128Pattern::I64x2(lanes) => lanes
            .iter()
            .zip(bytes.chunks_exact(8))
            .all(|(e, a)| *e == i64::from_le_bytes(a.try_into().expect("chunk of 8"))),
        V128Pattern::F32x4(lanes) => lanes
            .iter()
            .zip(bytes.chunks_exact(4))
            .all(|(e, a)| f32_matches(e, u32::from_le_bytes(a.try_into().expect("chunk of 4")))),
        V128Pattern::F64x2(lanes) => lanes
            .iter()
            .zip(bytes.chunks_exact(8))
            .all(|(e, a)| f64_matches(e, u64::from_le_bytes(a.try_into().expect("chunk of 8")))),
    }
}

fn v128_i32_lanes(bits: u128) -> String {
    let lanes: Vec<String> = bits
        .to_le_bytes()
        .chunks_exact(4)
        .map(|lane| {
            format!(
                "{:#010x}",
                u32::from_le_bytes(lane.try_into().expect("chunk of 4"))
            )
        })
        .collect();
    lanes.join(" ")
}

fn display_rets(rets: &[WastRet<'_>]) -> String {
    if rets.is_empty() {
        return "no values".to_owned();
    }
    let parts: Vec<String> = rets
        .iter()
        .map(|ret| match ret {
            WastRet::Core(core) => display_ret(core),
            other => format!("{other:?}"),
        })
        .collect();
    parts.join(" ")
}

fn display_nan_f32(pattern: &NanPattern<F32>) -> String {
    match pattern {
        NanPattern::CanonicalNan => "nan:canonical".to_owned(),
        NanPattern::ArithmeticNan => "nan:arithmetic".to_owned(),
        NanPattern::Value(value) => {
            format!(
                "{:?} (bits {:#010x})",
                f32::from_bits(value.bits),
                value.bits
            )
        }
    }
}

fn display_nan_f64(pattern: &NanPattern<F64>) -> String {
    match pattern {
        NanPattern::CanonicalNan => "nan:canonical".to_owned(),
        NanPattern::ArithmeticNan => "nan:arithmetic".to_owned(),
        NanPattern::Value(value) => {
            format!(
                "{:?} (bits {:#018x})",
                f64::from_bits(value.bits),
                value.bits
            )
        }
    }
}

fn display_ret(ret: &WastRetCore<'_>) -> String {
    match ret {
        WastRetCore::I32(value) => format!("(i32.const {value})"),
        WastRetCore::I64(value) => format!("(i64.const {value})"),
        WastRetCore::F32(pattern) => format!("(f32.const {})", display_nan_f32(pattern)),
        WastRetCore::F64(pattern) => format!("(f64.const {})", display_nan_f64(pattern)),
        WastRetCore::V128(pattern) => {
            let mut text = String::from("(v128.const");
            let _ = match pattern {
                V128Pattern::I8x16(lanes) => write!(text, " i8x16 {lanes:?}"),
                V128Pattern::I16x8(lanes) => write!(text, " i16x8 {lanes:?}"),
                V128Pattern::I32x4(lanes) => write!(text, " i32x4 {lanes:?}"),
                V128Pattern::I64x2(lanes) => write!(text, " i64x2 {lanes:?}"),
                V128Pattern::F32x4(lanes) => {
                    let lanes: Vec<String> = lanes.iter().map(display_nan_f32).collect();
                    write!(text, " f32x4 [{}]", lanes.join(", "))
                }
                V128Pattern::F64x2(lanes) => {
                    let lanes: Vec<String> = lanes.iter().map(display_nan_f64).collect();
                    write!(text, " f64x2 [{}]", lanes.join(", "))
                }
            };
            text.push(')');
            text
        }
        WastRetCore::RefNull(None) => "(ref.null)".to_owned(),
        WastRetCore::RefNull(Some(heap_type)) => {
            format!("(ref.null {})", heap_type_name(heap_type))
        }
        WastRetCore::RefExtern(None) => "(ref.extern)".to_owned(),
        WastRetCore::RefExtern(Some(value)) => format!("(ref.extern {value})"),
        WastRetCore::RefHost(value) => format!("(ref.host {value})"),
        WastRetCore::RefFunc(_) => "(ref.func)".to_owned(),
        WastRetCore::RefAny => "(ref.any)".to_owned(),
        WastRetCore::RefEq => "(ref.eq)".to_owned(),
        WastRetCore::RefArray => "(ref.array)".to_owned(),
        WastRetCore::RefStruct => "(ref.struct)".to_owned(),
        WastRetCore::RefI31 => "(ref.i31)".to_owned(),
        WastRetCore::RefI31Shared => "(ref.i31_shared)".to_owned(),
        WastRetCore::Either(cases) => {
            let cases: Vec<String> = cases.iter().map(display_ret).collect();
            format!("(either {})", cases.join(" "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wast::core::V128Const;

    #[test]
    fn nan_patterns() {
        assert!(f32_matches(&NanPattern::CanonicalNan, 0x7fc0_0000));
        assert!(f32_matches(&NanPattern::CanonicalNan, 0xffc0_0000));
        assert!(!f32_matches(&NanPattern::CanonicalNan, 0x7fc0_0001));
        assert!(f32_matches(&NanPattern::ArithmeticNan, 0x7fc0_0001));
        assert!(!f32_matches(&NanPattern::ArithmeticNan, 0x7fa0_0000));
        assert!(!f32_matches(&NanPattern::ArithmeticNan, 0x3fc0_0000));
        assert!(f64_matches(
            &NanPattern::CanonicalNan,
            0xfff8_0000_0000_0000
        ));
        assert!(!f64_matches(
            &NanPattern::CanonicalNan,
            0x7ff8_0000_0000_0001
        ));
        assert!(f64_matches(
            &NanPattern::ArithmeticNan,
            0x7ff8_0000_0000_0001
        ));
        assert!(!f64_matches(
            &NanPattern::ArithmeticNan,
            0x7ff4_0000_0000_0000
        ));
        assert!(f32_matches(
            &NanPattern::Value(F32 { bits: 0x8000_0000 }),
            0x8000_0000
        ));
        assert!(!f32_matches(
            &NanPattern::Value(F32 { bits: 0 }),
            0x8000_0000
        ));
    }

    #[test]
    fn v128_lanes_are_little_endian() {
        let bits = u128::from_le_bytes(V128Const::I32x4([1, -1, 3, 4]).to_le_bytes());
        assert!(v128_matches(&V128Pattern::I32x4([1, -1, 3, 4]), bits));
        assert!(!v128_matches(&V128Pattern::I32x4([4, 3, -1, 1]), bits));
        assert!(v128_matches(
            &V128Pattern::I16x8([1, 0, -1, -1, 3, 0, 4, 0]),
            bits
        ));
    }

    #[test]
    fn loose_message_matching() {
        assert!(messages_match(
            "uninitialized element 2",
            "uninitialized element"
        ));
        assert!(messages_match(
            "integer overflow",
            "wasm trap: integer overflow"
        ));
        assert!(!messages_match(
            "integer overflow",
            "integer divide by zero"
        ));
        assert!(!messages_match("unreachable", ""));
    }
}
