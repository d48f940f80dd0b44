;; Fibonacci and factorial, to try the runner without WASI:
;;
;;   cargo run --release -- run --invoke fib examples/fib.wat 20     # prints 6765
;;   cargo run --release -- run --invoke fac examples/fib.wat 20     # prints 2432902008176640000
;;   cargo run --release -- run --invoke fib_recursive examples/fib.wat 25
(module
  ;; fib(0) = 0, fib(1) = 1, fib(n) = fib(n - 1) + fib(n - 2), in a loop.
  (func $fib (export "fib") (param $n i32) (result i32)
    (local $a i32) (local $b i32) (local $next i32)
    (local.set $b (i32.const 1))
    (block $done
      (loop $step
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $next (i32.add (local.get $a) (local.get $b)))
        (local.set $a (local.get $b))
        (local.set $b (local.get $next))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $step)))
    (local.get $a))

  ;; The same by the definition: exponential time, deep calls.
  (func $fib_recursive (export "fib_recursive") (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else
        (i32.add
          (call $fib_recursive (i32.sub (local.get $n) (i32.const 1)))
          (call $fib_recursive (i32.sub (local.get $n) (i32.const 2)))))))

  ;; n! in 64 bits (wraps past 20!).
  (func $fac (export "fac") (param $n i64) (result i64)
    (if (result i64) (i64.le_u (local.get $n) (i64.const 1))
      (then (i64.const 1))
      (else (i64.mul (local.get $n) (call $fac (i64.sub (local.get $n) (i64.const 1))))))))
