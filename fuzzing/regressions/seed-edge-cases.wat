;; Not a found bug: a hand-written seed that keeps the replay path (text inputs, the
;; execute and differential oracles) exercised, with the edge cases the oracles must
;; normalise: NaN payloads, every trap kind, memory growth to the maximum, globals and
;; tables changed by calls.
(module
  (type $v (func))
  (memory (export "memory") 1 2)
  (table (export "table") 2 funcref)
  (global (export "g") (mut f64) (f64.const 0))
  (elem (i32.const 0) $nan)
  (func $nan (export "nan") (result f32) (f32.div (f32.const 0) (f32.const 0)))
  (func (export "nan_payload") (result f64)
    (f64.add (f64.const nan:0x4) (f64.const 1)))
  (func (export "set_global") (global.set 0 (f64.sqrt (f64.const -1))))
  (func (export "div0") (result i32) (i32.div_u (i32.const 1) (i32.const 0)))
  (func (export "overflow") (result i64) (i64.div_s (i64.const 0x8000000000000000) (i64.const -1)))
  (func (export "trunc") (result i32) (i32.trunc_f32_s (f32.const nan)))
  (func (export "oob") (result i32) (i32.load offset=65535 (i32.const 1)))
  (func (export "grow") (result i32)
    (drop (memory.grow (i32.const 1)))
    (i32.store (i32.const 131068) (i32.const -1))
    (memory.grow (i32.const 1)))
  (func (export "null") (call_indirect (type $v) (i32.const 1)))
  (func (export "mismatch") (call_indirect (type $v) (i32.const 0)))
  (func (export "undefined") (call_indirect (type $v) (i32.const 2)))
  (func (export "clear") (table.set (i32.const 0) (ref.null func)))
  (func (export "unreachable") unreachable))
