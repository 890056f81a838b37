package mapping

import (
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/itchyny/gojq"
	"github.com/shopspring/decimal"
)

// compilerOptions are the options every program is compiled with: no
// environment, no inputs, no modules (none of those options is given), and
// the functions this package provides.
func compilerOptions() []gojq.CompilerOption {
	return []gojq.CompilerOption{
		gojq.WithEnvironLoader(func() []string { return nil }),
		gojq.WithFunction("decimal", 0, 1, fnDecimal),
		gojq.WithFunction("dec_add", 2, 2, binary("dec_add", decimal.Decimal.Add)),
		gojq.WithFunction("dec_sub", 2, 2, binary("dec_sub", decimal.Decimal.Sub)),
		gojq.WithFunction("dec_mul", 2, 2, binary("dec_mul", decimal.Decimal.Mul)),
		gojq.WithFunction("dec_neg", 0, 0, unary("dec_neg", decimal.Decimal.Neg)),
		gojq.WithFunction("dec_abs", 0, 0, unary("dec_abs", decimal.Decimal.Abs)),
		gojq.WithFunction("dec_sum", 0, 0, fnSum),
		gojq.WithFunction("dec_round", 1, 1, fnRound),
		gojq.WithFunction("dec_cmp", 2, 2, fnCmp),
		gojq.WithFunction("dec_text", 0, 0, fnText),
		gojq.WithFunction("truncate", 1, 1, fnTruncate),
	}
}

// fnDecimal is `decimal`, its input as a decimal value, and `decimal(x)`,
// x as one; null stays null.
func fnDecimal(v any, args []any) any {
	if len(args) == 1 {
		v = args[0]
	}
	return withDecimal("decimal", v, func(d decimal.Decimal) any { return decimalValue(d) })
}

// binary is a function of two arguments, `dec_add(a; b)` and its kin; null
// in either gives null.
func binary(fn string, op func(decimal.Decimal, decimal.Decimal) decimal.Decimal) func(any, []any) any {
	return func(_ any, args []any) any {
		return withDecimals(fn, args[0], args[1], func(a, b decimal.Decimal) any { return checked(fn, op(a, b)) })
	}
}

// unary is a function of its input, `dec_neg` and `dec_abs`; null gives null.
func unary(fn string, op func(decimal.Decimal) decimal.Decimal) func(any, []any) any {
	return func(v any, _ []any) any {
		return withDecimal(fn, v, func(d decimal.Decimal) any { return checked(fn, op(d)) })
	}
}

// fnSum is `dec_sum`: the exact sum of an array's numbers, skipping nulls
// as jq's add does; [] sums to 0, null gives null.
func fnSum(v any, _ []any) any {
	if v == nil {
		return nil
	}
	xs, ok := v.([]any)
	if !ok {
		return &funcError{reason: "dec_sum: expected an array, got " + typeName(v)}
	}
	sum := decimal.Zero
	for _, x := range xs {
		d, isNull, err := toDecimal("dec_sum", x)
		if err != nil {
			return err
		}
		if isNull {
			continue
		}
		if sum = sum.Add(d); !withinBounds(sum) {
			return &funcError{reason: "dec_sum: result has more than " + strconv.Itoa(MaxDecimalDigits) + " digits"}
		}
	}
	return decimalValue(sum)
}

// fnRound is `dec_round(places)`: its input rounded half away from zero to
// places digits after the point (a negative places rounds to tens,
// hundreds, ...), with exactly that scale; null gives null.
func fnRound(v any, args []any) any {
	places, err := intArg("dec_round", args[0])
	if err != nil {
		return err
	}
	if places < -MaxDecimalDigits || places > MaxDecimalDigits {
		return &funcError{reason: "dec_round: places must lie between -" + strconv.Itoa(MaxDecimalDigits) + " and " + strconv.Itoa(MaxDecimalDigits)}
	}
	return withDecimal("dec_round", v, func(d decimal.Decimal) any { return checked("dec_round", d.Round(int32(places))) })
}

// fnCmp is `dec_cmp(a; b)`: -1, 0 or 1 as a is less than, equal to or
// greater than b (1.0 equals 1.00); null in either gives null.
func fnCmp(_ any, args []any) any {
	return withDecimals("dec_cmp", args[0], args[1], func(a, b decimal.Decimal) any { return a.Cmp(b) })
}

// fnText is `dec_text`: its input as plain decimal text ("12.30", "1000");
// null gives null.
func fnText(v any, _ []any) any {
	return withDecimal("dec_text", v, func(d decimal.Decimal) any { return plainText(d) })
}

// withDecimal is f of v read as a decimal for function fn (see toDecimal):
// the error when v cannot be read as one, null when v is null.
func withDecimal(fn string, v any, f func(decimal.Decimal) any) any {
	d, isNull, err := toDecimal(fn, v)
	switch {
	case err != nil:
		return err
	case isNull:
		return nil
	}
	return f(d)
}

// withDecimals is f of a and b read as decimals for function fn: the error
// of the first that cannot be read as one, null when either is null.
func withDecimals(fn string, a, b any, f func(a, b decimal.Decimal) any) any {
	x, xNull, err := toDecimal(fn, a)
	if err != nil {
		return err
	}
	y, yNull, err := toDecimal(fn, b)
	if err != nil {
		return err
	}
	if xNull || yNull {
		return nil
	}
	return f(x, y)
}

// ellipsis marks text that truncate cut.
const ellipsis = "…"

// fnTruncate is `truncate(n)`: text of at most n characters; longer text
// keeps its first n-1 characters and ends in "…". null gives null.
func fnTruncate(v any, args []any) any {
	n, err := intArg("truncate", args[0])
	if err != nil {
		return err
	}
	if n < 1 {
		return &funcError{reason: "truncate: n must be at least 1"}
	}
	switch s := v.(type) {
	case nil:
		return nil
	case string:
		if strings.Contains(s, decimalMarker) {
			return &funcError{reason: "truncate: a decimal value is not text; use dec_text first"}
		}
		return truncateText(s, n)
	default:
		return &funcError{reason: "truncate: expected text, got " + typeName(v)}
	}
}

// truncateText is s cut to n characters (runes), the last of them "…" when
// s was longer.
func truncateText(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	cut, count := 0, 0
	for i := range s {
		if count == n-1 {
			cut = i
			break
		}
		count++
	}
	return s[:cut] + ellipsis
}

// intArg reads an integer argument: an int, or a float or big integer that
// holds an integer in int's range.
func intArg(fn string, v any) (int, error) {
	switch v := v.(type) {
	case int:
		return v, nil
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < maxExactFloat {
			return int(v), nil
		}
	case *big.Int:
		if v.IsInt64() && v.Int64() >= math.MinInt && v.Int64() <= math.MaxInt {
			return int(v.Int64()), nil
		}
	}
	return 0, &funcError{reason: fn + ": expected an integer argument, got " + typeName(v)}
}
