;; Byte-plane split and merge (see planes.ts) with WebAssembly SIMD, 16 elements per step.
;; Assembled by scripts/build-wasm.mjs into planes-wasm.ts; edit this file, never that one.
;;
;; Every function takes addresses in this module's memory:
;;   src / dst  the elements, n × width bytes
;;   x          the XOR operand (same length), or 0 for none: address 0 starts a zero block
;;              of 64 bytes that the caller never writes, which the loops then read again and
;;              again, so one loop serves both cases at the cost of an L1-hot load
;;   planes     plane b starts at planes + b × stride (stride ≥ n)
;; n mod 16 trailing elements take the byte loops at the end.
(module
  (memory (export "memory") 1)

  ;; Advance of x for `bytes` bytes of elements: 0 when there is no XOR operand.
  (func $xstep (param $x i32) (param $bytes i32) (result i32)
    (select (local.get $bytes) (i32.const 0) (local.get $x)))

  ;; planes[b][i] = src[i × width + b] ^ x[…] for elements i..n-1.
  (func $split_tail (param $src i32) (param $x i32) (param $planes i32) (param $stride i32)
                    (param $width i32) (param $i i32) (param $n i32)
    (local $b i32) (local $at i32)
    (block $done
      (loop $element
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $b (i32.const 0))
        (loop $byte
          (local.set $at (i32.add (i32.mul (local.get $i) (local.get $width)) (local.get $b)))
          (i32.store8
            (i32.add (i32.add (local.get $planes) (i32.mul (local.get $b) (local.get $stride))) (local.get $i))
            (i32.xor (i32.load8_u (i32.add (local.get $src) (local.get $at)))
                     (i32.load8_u (i32.add (local.get $x) (call $xstep (local.get $x) (local.get $at))))))
          (local.set $b (i32.add (local.get $b) (i32.const 1)))
          (br_if $byte (i32.lt_u (local.get $b) (local.get $width))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $element))))

  ;; dst[i × width + b] = planes[b][i] ^ x[…] for elements i..n-1.
  (func $merge_tail (param $planes i32) (param $stride i32) (param $x i32) (param $dst i32)
                    (param $width i32) (param $i i32) (param $n i32)
    (local $b i32) (local $at i32)
    (block $done
      (loop $element
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $b (i32.const 0))
        (loop $byte
          (local.set $at (i32.add (i32.mul (local.get $i) (local.get $width)) (local.get $b)))
          (i32.store8
            (i32.add (local.get $dst) (local.get $at))
            (i32.xor (i32.load8_u (i32.add (i32.add (local.get $planes) (i32.mul (local.get $b) (local.get $stride))) (local.get $i)))
                     (i32.load8_u (i32.add (local.get $x) (call $xstep (local.get $x) (local.get $at))))))
          (local.set $b (i32.add (local.get $b) (i32.const 1)))
          (br_if $byte (i32.lt_u (local.get $b) (local.get $width))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $element))))

  ;; Width 2: the even bytes of 32 go to plane 0, the odd ones to plane 1.
  (func (export "split2") (param $src i32) (param $x i32) (param $planes i32) (param $stride i32) (param $n i32)
    (local $s i32) (local $xp i32) (local $xs i32) (local $p0 i32) (local $p1 i32) (local $end i32)
    (local $a v128) (local $b v128)
    (local.set $s (local.get $src))
    (local.set $xp (local.get $x))
    (local.set $xs (call $xstep (local.get $x) (i32.const 32)))
    (local.set $p0 (local.get $planes))
    (local.set $p1 (i32.add (local.get $planes) (local.get $stride)))
    (local.set $end (i32.add (local.get $planes) (i32.and (local.get $n) (i32.const -16))))
    (block $done
      (loop $step
        (br_if $done (i32.ge_u (local.get $p0) (local.get $end)))
        (local.set $a (v128.xor (v128.load (local.get $s)) (v128.load (local.get $xp))))
        (local.set $b (v128.xor (v128.load offset=16 (local.get $s)) (v128.load offset=16 (local.get $xp))))
        (v128.store (local.get $p0)
          (i8x16.shuffle 0 2 4 6 8 10 12 14 16 18 20 22 24 26 28 30 (local.get $a) (local.get $b)))
        (v128.store (local.get $p1)
          (i8x16.shuffle 1 3 5 7 9 11 13 15 17 19 21 23 25 27 29 31 (local.get $a) (local.get $b)))
        (local.set $s (i32.add (local.get $s) (i32.const 32)))
        (local.set $xp (i32.add (local.get $xp) (local.get $xs)))
        (local.set $p0 (i32.add (local.get $p0) (i32.const 16)))
        (local.set $p1 (i32.add (local.get $p1) (i32.const 16)))
        (br $step)))
    (call $split_tail (local.get $src) (local.get $x) (local.get $planes) (local.get $stride)
      (i32.const 2) (i32.sub (local.get $p0) (local.get $planes)) (local.get $n)))

  ;; Inverse of split2: interleave 16 bytes of each plane.
  (func (export "merge2") (param $planes i32) (param $stride i32) (param $x i32) (param $dst i32) (param $n i32)
    (local $d i32) (local $xp i32) (local $xs i32) (local $p0 i32) (local $p1 i32) (local $end i32)
    (local $lo v128) (local $hi v128)
    (local.set $d (local.get $dst))
    (local.set $xp (local.get $x))
    (local.set $xs (call $xstep (local.get $x) (i32.const 32)))
    (local.set $p0 (local.get $planes))
    (local.set $p1 (i32.add (local.get $planes) (local.get $stride)))
    (local.set $end (i32.add (local.get $planes) (i32.and (local.get $n) (i32.const -16))))
    (block $done
      (loop $step
        (br_if $done (i32.ge_u (local.get $p0) (local.get $end)))
        (local.set $lo (v128.load (local.get $p0)))
        (local.set $hi (v128.load (local.get $p1)))
        (v128.store (local.get $d)
          (v128.xor (v128.load (local.get $xp))
            (i8x16.shuffle 0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23 (local.get $lo) (local.get $hi))))
        (v128.store offset=16 (local.get $d)
          (v128.xor (v128.load offset=16 (local.get $xp))
            (i8x16.shuffle 8 24 9 25 10 26 11 27 12 28 13 29 14 30 15 31 (local.get $lo) (local.get $hi))))
        (local.set $d (i32.add (local.get $d) (i32.const 32)))
        (local.set $xp (i32.add (local.get $xp) (local.get $xs)))
        (local.set $p0 (i32.add (local.get $p0) (i32.const 16)))
        (local.set $p1 (i32.add (local.get $p1) (i32.const 16)))
        (br $step)))
    (call $merge_tail (local.get $planes) (local.get $stride) (local.get $x) (local.get $dst)
      (i32.const 2) (i32.sub (local.get $p0) (local.get $planes)) (local.get $n)))

  ;; Width 4, in two steps that are each their own inverse, so merge4 runs the same ones:
  ;; (1) within each vector of 4 elements, byte b of every element goes to 32-bit lane b
  ;;     (shuffle 0 4 8 12 1 5 9 13 2 6 10 14 3 7 11 15); (2) the 4 × 4 matrix of 32-bit lanes of 4 such vectors
  ;;     (row = vector, column = byte) is transposed, so that row b holds byte b of 16 elements.
  ;; Step (1) is written out at each use: a call in the loop would not be inlined.
  (func (export "split4") (param $src i32) (param $x i32) (param $planes i32) (param $stride i32) (param $n i32)
    (local $s i32) (local $xp i32) (local $xs i32) (local $p0 i32) (local $end i32)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128)
    (local $ab_lo v128) (local $cd_lo v128) (local $ab_hi v128) (local $cd_hi v128)
    (local.set $s (local.get $src))
    (local.set $xp (local.get $x))
    (local.set $xs (call $xstep (local.get $x) (i32.const 64)))
    (local.set $p0 (local.get $planes))
    (local.set $end (i32.add (local.get $planes) (i32.and (local.get $n) (i32.const -16))))
    (block $done
      (loop $step
        (br_if $done (i32.ge_u (local.get $p0) (local.get $end)))
        (local.set $a (v128.xor (v128.load (local.get $s)) (v128.load (local.get $xp))))
        (local.set $b (v128.xor (v128.load offset=16 (local.get $s)) (v128.load offset=16 (local.get $xp))))
        (local.set $c (v128.xor (v128.load offset=32 (local.get $s)) (v128.load offset=32 (local.get $xp))))
        (local.set $d (v128.xor (v128.load offset=48 (local.get $s)) (v128.load offset=48 (local.get $xp))))
        (local.set $a (i8x16.shuffle 0 4 8 12 1 5 9 13 2 6 10 14 3 7 11 15 (local.get $a) (local.get $a)))
        (local.set $b (i8x16.shuffle 0 4 8 12 1 5 9 13 2 6 10 14 3 7 11 15 (local.get $b) (local.get $b)))
        (local.set $c (i8x16.shuffle 0 4 8 12 1 5 9 13 2 6 10 14 3 7 11 15 (local.get $c) (local.get $c)))
        (local.set $d (i8x16.shuffle 0 4 8 12 1 5 9 13 2 6 10 14 3 7 11 15 (local.get $d) (local.get $d)))
        (local.set $ab_lo (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a) (local.get $b)))
        (local.set $cd_lo (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $c) (local.get $d)))
        (local.set $ab_hi (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a) (local.get $b)))
        (local.set $cd_hi (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $c) (local.get $d)))
        (v128.store (local.get $p0)
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $ab_lo) (local.get $cd_lo)))
        (v128.store (i32.add (local.get $p0) (local.get $stride))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $ab_lo) (local.get $cd_lo)))
        (v128.store (i32.add (local.get $p0) (i32.shl (local.get $stride) (i32.const 1)))
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $ab_hi) (local.get $cd_hi)))
        (v128.store (i32.add (local.get $p0) (i32.mul (local.get $stride) (i32.const 3)))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $ab_hi) (local.get $cd_hi)))
        (local.set $s (i32.add (local.get $s) (i32.const 64)))
        (local.set $xp (i32.add (local.get $xp) (local.get $xs)))
        (local.set $p0 (i32.add (local.get $p0) (i32.const 16)))
        (br $step)))
    (call $split_tail (local.get $src) (local.get $x) (local.get $planes) (local.get $stride)
      (i32.const 4) (i32.sub (local.get $p0) (local.get $planes)) (local.get $n)))

  (func (export "merge4") (param $planes i32) (param $stride i32) (param $x i32) (param $dst i32) (param $n i32)
    (local $dp i32) (local $xp i32) (local $xs i32) (local $p0 i32) (local $end i32)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128)
    (local $ab_lo v128) (local $cd_lo v128) (local $ab_hi v128) (local $cd_hi v128)
    (local.set $dp (local.get $dst))
    (local.set $xp (local.get $x))
    (local.set $xs (call $xstep (local.get $x) (i32.const 64)))
    (local.set $p0 (local.get $planes))
    (local.set $end (i32.add (local.get $planes) (i32.and (local.get $n) (i32.const -16))))
    (block $done
      (loop $step
        (br_if $done (i32.ge_u (local.get $p0) (local.get $end)))
        (local.set $a (v128.load (local.get $p0)))
        (local.set $b (v128.load (i32.add (local.get $p0) (local.get $stride))))
        (local.set $c (v128.load (i32.add (local.get $p0) (i32.shl (local.get $stride) (i32.const 1)))))
        (local.set $d (v128.load (i32.add (local.get $p0) (i32.mul (local.get $stride) (i32.const 3)))))
        (local.set $ab_lo (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a) (local.get $b)))
        (local.set $cd_lo (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $c) (local.get $d)))
        (local.set $ab_hi (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a) (local.get $b)))
        (local.set $cd_hi (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $c) (local.get $d)))
        (local.set $a (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $ab_lo) (local.get $cd_lo)))
        (local.set $b (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $ab_lo) (local.get $cd_lo)))
        (local.set $c (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $ab_hi) (local.get $cd_hi)))
        (local.set $d (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $ab_hi) (local.get $cd_hi)))
        (v128.store (local.get $dp)
          (v128.xor (v128.load (local.get $xp)) (i8x16.shuffle 0 4 8 12 1 5 9 13 2 6 10 14 3 7 11 15 (local.get $a) (local.get $a))))
        (v128.store offset=16 (local.get $dp)
          (v128.xor (v128.load offset=16 (local.get $xp)) (i8x16.shuffle 0 4 8 12 1 5 9 13 2 6 10 14 3 7 11 15 (local.get $b) (local.get $b))))
        (v128.store offset=32 (local.get $dp)
          (v128.xor (v128.load offset=32 (local.get $xp)) (i8x16.shuffle 0 4 8 12 1 5 9 13 2 6 10 14 3 7 11 15 (local.get $c) (local.get $c))))
        (v128.store offset=48 (local.get $dp)
          (v128.xor (v128.load offset=48 (local.get $xp)) (i8x16.shuffle 0 4 8 12 1 5 9 13 2 6 10 14 3 7 11 15 (local.get $d) (local.get $d))))
        (local.set $dp (i32.add (local.get $dp) (i32.const 64)))
        (local.set $xp (i32.add (local.get $xp) (local.get $xs)))
        (local.set $p0 (i32.add (local.get $p0) (i32.const 16)))
        (br $step)))
    (call $merge_tail (local.get $planes) (local.get $stride) (local.get $x) (local.get $dst)
      (i32.const 4) (i32.sub (local.get $p0) (local.get $planes)) (local.get $n))))
