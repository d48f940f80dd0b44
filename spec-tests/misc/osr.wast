;; On-stack replacement: loops that leave the interpreter while their call runs.
;;
;; Written for the tiered engine with thresholds of 1 (the harness's `tiered`), where every
;; loop's first backward branch compiles an entry for its header and the call continues
;; there; every other engine runs the same script as the reference. Expected values are
;; closed forms, not outputs of an engine.

(module
  (memory 1)
  (global $g (mut i32) (i32.const 0))
  (table 2 funcref)
  (elem (i32.const 0) $square $negate)
  (func $square (param i32) (result i32) (i32.mul (local.get 0) (local.get 0)))
  (func $negate (param i32) (result i32) (i32.sub (i32.const 0) (local.get 0)))

  ;; sum of 0..n-1, plus 7 waiting on the operand stack below the loop
  (func (export "sum") (param $n i32) (result i64)
    (local $i i32) (local $acc i64)
    (i64.const 7)
    (loop $l
      (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (i64.add (local.get $acc)))

  ;; sum over i < n, j < 100 of i * j
  (func (export "nested") (param $n i32) (result i32)
    (local $i i32) (local $j i32) (local $x i32)
    (block $done
      (loop $outer
        (local.set $j (i32.const 0))
        (loop $inner
          (local.set $x (i32.add (local.get $x) (i32.mul (local.get $i) (local.get $j))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br_if $inner (i32.lt_u (local.get $j) (i32.const 100))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $outer (i32.lt_u (local.get $i) (local.get $n)))))
    (local.get $x))

  ;; a loop with a parameter and a result, with values of two enclosing blocks beneath
  ;; it: 1000 - 3 * (2 + sum of 0..n-1), the sum carried as the loop's parameter
  (func (export "params") (param $n i32) (result i32)
    (local $i i32)
    (i32.const 1000)
    (block (param i32) (result i32)
      (i32.const 3)
      (block (param i32 i32) (result i32)
        (i32.const 2)
        (loop $l (param i32) (result i32)
          (i32.add (local.get $i))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
        (i32.mul)
        (i32.sub))))

  ;; loops inside if/else arms, with an `if` parameter
  (func (export "arms") (param $n i32) (param $which i32) (result i32)
    (local $i i32)
    (i32.const 5)
    (if (param i32) (result i32) (local.get $which)
      (then
        (loop $l (param i32) (result i32)
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (i32.add (i32.const 2))
          (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))
      (else
        (loop $l (param i32) (result i32)
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (i32.add (i32.const 3))
          (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))))

  ;; floats, memory, globals, calls (direct and indirect) and br_table inside the loop
  (func (export "mixed") (param $n i32) (result f64 i32 i32)
    (local $i i32) (local $f f64) (local $s f32)
    (block $exit (loop $l
      (local.set $f (f64.add (local.get $f) (f64.const 0.5)))
      (local.set $s (f32.add (local.get $s) (f32.const 1)))
      (i32.store (i32.mul (i32.rem_u (local.get $i) (i32.const 16)) (i32.const 4))
        (i32.add (i32.load (i32.mul (i32.rem_u (local.get $i) (i32.const 16)) (i32.const 4)))
          (call $square (i32.const 3))))
      (global.set $g (i32.add (global.get $g)
        (call_indirect (param i32) (result i32)
          (i32.const 1) (i32.and (local.get $i) (i32.const 1)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (block $continue
        (block $stop
          (br_table $continue $stop
            (i32.ge_u (local.get $i) (local.get $n))))
        (br $exit))
      (br $l)))
    (local.get $f)
    (i32.load (i32.const 0))
    (i32.add (global.get $g) (i32.trunc_f32_s (local.get $s))))

  ;; traps after the switch: divides by zero when i reaches n
  (func (export "trap") (param $n i32) (result i32)
    (local $i i32) (local $x i32)
    (loop $l
      (local.set $x (i32.add (local.get $x) (i32.div_u (i32.const 100) (i32.sub (local.get $n) (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l))
    (local.get $x))

  ;; traps on an out-of-bounds store after the switch
  (func (export "oob") (param $n i32)
    (local $a i32)
    (loop $l
      (i32.store (local.get $a) (local.get $a))
      (local.set $a (i32.add (local.get $a) (i32.const 4096)))
      (br $l)))

  ;; recursion whose every level runs a loop: depth d, each level sums 0..n-1
  (func $recurse (export "recurse") (param $d i32) (param $n i32) (result i64)
    (local $i i32) (local $acc i64)
    (loop $l
      (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (if (result i64) (i32.eqz (local.get $d))
      (then (local.get $acc))
      (else (i64.add (local.get $acc)
        (call $recurse (i32.sub (local.get $d) (i32.const 1)) (local.get $n))))))

  ;; a reference local carried around a loop
  (func (export "refs") (param $n i32) (result i32)
    (local $i i32) (local $r funcref)
    (loop $l
      (local.set $r (table.get (i32.and (local.get $i) (i32.const 1))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (ref.is_null (local.get $r)))

;; a value beneath a loop inside another loop: the outer back edge makes the code
  ;; before the inner loop reachable again (such loops get no entry; the outer one may)
  (func (export "beneath_in_outer") (param $n i32) (result i32)
    (local $i i32) (local $j i32) (local $acc i32)
    (loop $outer
      (i32.const 3)
      (local.set $j (i32.const 0))
      (loop $inner
        (local.set $acc (i32.add (local.get $acc) (local.get $j)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $inner (i32.lt_u (local.get $j) (i32.const 10))))
      (local.set $acc (i32.add (local.get $acc)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $outer (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $acc))

  ;; loops in dead code count for the loop numbering of both tiers
  (func (export "dead") (param $n i32) (result i32)
    (local $i i32)
    (block $b
      (br $b)
      (loop $never (br $never)))
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $i))
)

(assert_return (invoke "sum" (i32.const 1)) (i64.const 7))
(assert_return (invoke "sum" (i32.const 100000)) (i64.const 4999950007))
(assert_return (invoke "nested" (i32.const 1)) (i32.const 0))
(assert_return (invoke "nested" (i32.const 1000)) (i32.const 2472525000))
(assert_return (invoke "params" (i32.const 1)) (i32.const 994))
(assert_return (invoke "params" (i32.const 1000)) (i32.const -1497506))
(assert_return (invoke "arms" (i32.const 10) (i32.const 1)) (i32.const 25))
(assert_return (invoke "arms" (i32.const 10) (i32.const 0)) (i32.const 35))
(assert_return (invoke "mixed" (i32.const 1000)) (f64.const 500) (i32.const 567) (i32.const 1000))
(assert_trap (invoke "trap" (i32.const 50)) "integer divide by zero")
(assert_trap (invoke "oob" (i32.const 0)) "out of bounds memory access")
(assert_return (invoke "recurse" (i32.const 20) (i32.const 100)) (i64.const 103950))
(assert_return (invoke "refs" (i32.const 11)) (i32.const 0))
(assert_return (invoke "dead" (i32.const 33)) (i32.const 33))
(assert_return (invoke "beneath_in_outer" (i32.const 100)) (i32.const 4800))
;; state kept through the switches: the global, and memory ("oob" stored 0 at address 0)
(assert_return (invoke "mixed" (i32.const 2)) (f64.const 1) (i32.const 9) (i32.const 2))
