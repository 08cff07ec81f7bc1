;; The two loops of the course's preprocessing that touch every pixel of a photo, in WebAssembly:
;; Pillow's RGB -> L conversion and the horizontal pass of its Lanczos resize (8-bit, 22-bit fixed
;; point weights). Same integers as Pillow; lib/preprocess/wasm.ts loads it, `npm run build:wasm`
;; assembles it into resample-wasm.ts.
(module
  (memory (export "memory") 1)

  ;; dst[i] = (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16 for n RGB pixels (Pillow's L24):
  ;; 16 pixels at a time (three loads, shuffled into R, G and B), the last n % 16 one by one.
  (func (export "luma_rgb") (param $src i32) (param $dst i32) (param $n i32)
    (local $end i32) (local $blocksEnd i32)
    (local $a v128) (local $b v128) (local $c v128)
    (local $r v128) (local $g v128) (local $bl v128) (local $r16 v128) (local $g16 v128) (local $b16 v128)
    (local $low v128) (local $high v128)
    ;; The weights as unsigned 16-bit lanes (38470 does not fit a signed one): products widen to 32 bits.
    (local $kr v128) (local $kg v128) (local $kb v128)
    (local.set $end (i32.add (local.get $dst) (local.get $n)))
    (local.set $blocksEnd (i32.add (local.get $dst) (i32.and (local.get $n) (i32.const -16))))
    (local.set $kr (i16x8.splat (i32.const 19595)))
    (local.set $kg (i16x8.splat (i32.const 38470)))
    (local.set $kb (i16x8.splat (i32.const 7471)))
    (block $blocksDone
      (loop $nextBlock
        (br_if $blocksDone (i32.ge_u (local.get $dst) (local.get $blocksEnd)))
        (local.set $a (v128.load (local.get $src)))
        (local.set $b (v128.load offset=16 (local.get $src)))
        (local.set $c (v128.load offset=32 (local.get $src)))
        (local.set $r
          (i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 10 17 20 23 26 29
            (i8x16.shuffle 0 3 6 9 12 15 18 21 24 27 30 0 0 0 0 0 (local.get $a) (local.get $b))
            (local.get $c)))
        (local.set $g
          (i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 10 18 21 24 27 30
            (i8x16.shuffle 1 4 7 10 13 16 19 22 25 28 31 0 0 0 0 0 (local.get $a) (local.get $b))
            (local.get $c)))
        (local.set $bl
          (i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 16 19 22 25 28 31
            (i8x16.shuffle 2 5 8 11 14 17 20 23 26 29 0 0 0 0 0 0 (local.get $a) (local.get $b))
            (local.get $c)))
        (local.set $r16 (i16x8.extend_low_i8x16_u (local.get $r)))
        (local.set $g16 (i16x8.extend_low_i8x16_u (local.get $g)))
        (local.set $b16 (i16x8.extend_low_i8x16_u (local.get $bl)))
        (local.set $low
          (i16x8.narrow_i32x4_u
            (i32x4.shr_u
              (i32x4.add
                (i32x4.add (i32x4.extmul_low_i16x8_u (local.get $r16) (local.get $kr)) (i32x4.extmul_low_i16x8_u (local.get $g16) (local.get $kg)))
                (i32x4.add (i32x4.extmul_low_i16x8_u (local.get $b16) (local.get $kb)) (v128.const i32x4 32768 32768 32768 32768)))
              (i32.const 16))
            (i32x4.shr_u
              (i32x4.add
                (i32x4.add (i32x4.extmul_high_i16x8_u (local.get $r16) (local.get $kr)) (i32x4.extmul_high_i16x8_u (local.get $g16) (local.get $kg)))
                (i32x4.add (i32x4.extmul_high_i16x8_u (local.get $b16) (local.get $kb)) (v128.const i32x4 32768 32768 32768 32768)))
              (i32.const 16))))
        (local.set $r16 (i16x8.extend_high_i8x16_u (local.get $r)))
        (local.set $g16 (i16x8.extend_high_i8x16_u (local.get $g)))
        (local.set $b16 (i16x8.extend_high_i8x16_u (local.get $bl)))
        (local.set $high
          (i16x8.narrow_i32x4_u
            (i32x4.shr_u
              (i32x4.add
                (i32x4.add (i32x4.extmul_low_i16x8_u (local.get $r16) (local.get $kr)) (i32x4.extmul_low_i16x8_u (local.get $g16) (local.get $kg)))
                (i32x4.add (i32x4.extmul_low_i16x8_u (local.get $b16) (local.get $kb)) (v128.const i32x4 32768 32768 32768 32768)))
              (i32.const 16))
            (i32x4.shr_u
              (i32x4.add
                (i32x4.add (i32x4.extmul_high_i16x8_u (local.get $r16) (local.get $kr)) (i32x4.extmul_high_i16x8_u (local.get $g16) (local.get $kg)))
                (i32x4.add (i32x4.extmul_high_i16x8_u (local.get $b16) (local.get $kb)) (v128.const i32x4 32768 32768 32768 32768)))
              (i32.const 16))))
        (v128.store (local.get $dst) (i8x16.narrow_i16x8_u (local.get $low) (local.get $high)))
        (local.set $src (i32.add (local.get $src) (i32.const 48)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (br $nextBlock)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $dst) (local.get $end)))
        (i32.store8
          (local.get $dst)
          (i32.shr_u
            (i32.add
              (i32.add
                (i32.add
                  (i32.mul (i32.load8_u (local.get $src)) (i32.const 19595))
                  (i32.mul (i32.load8_u offset=1 (local.get $src)) (i32.const 38470)))
                (i32.mul (i32.load8_u offset=2 (local.get $src)) (i32.const 7471)))
              (i32.const 32768))
            (i32.const 16)))
        (local.set $src (i32.add (local.get $src) (i32.const 3)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 1)))
        (br $next))))

  ;; Horizontal pass: each of `rows` rows of `width` grey pixels at `src` becomes `outWidth` pixels
  ;; at `dst`. Output pixel xx reads the pixels from first[xx] (i32 array at `first`) with the
  ;; weights of block xx at `weights`: `blocks` groups of 8 high parts then 8 low parts (i16), where
  ;; weight = high * 2048 + low, 0 <= low < 2048, so that i32x4.dot_i16x8_s multiplies exactly;
  ;; weights past the kernel's end are 0 (the pixels they meet, up to 7 past the row, count for 0).
  ;; sum = 2^21 + sum(pixel * weight) in wrapping i32 (the exact sum fits, as in Pillow's C int);
  ;; output = clamp(sum >> 22, 0, 255).
  (func (export "resample_horizontal")
    (param $src i32) (param $width i32) (param $rows i32) (param $outWidth i32)
    (param $first i32) (param $weights i32) (param $blocks i32) (param $dst i32)
    (local $row i32) (local $xx i32) (local $p i32) (local $w i32) (local $k i32)
    (local $high v128) (local $low v128) (local $pixels v128) (local $sum i32)
    (local $rowEnd i32)
    (local.set $row (local.get $src))
    (local.set $rowEnd (i32.add (local.get $src) (i32.mul (local.get $width) (local.get $rows))))
    (block $rowsDone
      (loop $nextRow
        (br_if $rowsDone (i32.ge_u (local.get $row) (local.get $rowEnd)))
        (local.set $xx (i32.const 0))
        (local.set $w (local.get $weights))
        (block $pixelsDone
          (loop $nextPixel
            (br_if $pixelsDone (i32.ge_u (local.get $xx) (local.get $outWidth)))
            (local.set $p
              (i32.add (local.get $row) (i32.load (i32.add (local.get $first) (i32.shl (local.get $xx) (i32.const 2))))))
            (local.set $high (v128.const i32x4 0 0 0 0))
            (local.set $low (v128.const i32x4 0 0 0 0))
            (local.set $k (local.get $blocks))
            (loop $nextBlock
              (local.set $pixels (v128.load8x8_u (local.get $p)))
              (local.set $high (i32x4.add (local.get $high) (i32x4.dot_i16x8_s (local.get $pixels) (v128.load (local.get $w)))))
              (local.set $low (i32x4.add (local.get $low) (i32x4.dot_i16x8_s (local.get $pixels) (v128.load offset=16 (local.get $w)))))
              (local.set $p (i32.add (local.get $p) (i32.const 8)))
              (local.set $w (i32.add (local.get $w) (i32.const 32)))
              (local.set $k (i32.sub (local.get $k) (i32.const 1)))
              (br_if $nextBlock (local.get $k)))
            ;; high * 2048 + low, lane by lane, then the four lanes: the same integer as Pillow's sum.
            (local.set $high (i32x4.add (i32x4.shl (local.get $high) (i32.const 11)) (local.get $low)))
            (local.set $sum
              (i32.shr_s
                (i32.add
                  (i32.add
                    (i32.add (i32x4.extract_lane 0 (local.get $high)) (i32x4.extract_lane 1 (local.get $high)))
                    (i32.add (i32x4.extract_lane 2 (local.get $high)) (i32x4.extract_lane 3 (local.get $high))))
                  (i32.const 2097152))
                (i32.const 22)))
            (i32.store8
              (local.get $dst)
              (select
                (i32.const 0)
                (select (i32.const 255) (local.get $sum) (i32.gt_s (local.get $sum) (i32.const 255)))
                (i32.lt_s (local.get $sum) (i32.const 0))))
            (local.set $dst (i32.add (local.get $dst) (i32.const 1)))
            (local.set $xx (i32.add (local.get $xx) (i32.const 1)))
            (br $nextPixel)))
        (local.set $row (i32.add (local.get $row) (local.get $width)))
        (br $nextRow))))
)
