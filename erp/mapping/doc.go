// Package mapping turns a normalised record (erp.Record) into the document
// an ERP connector sends, with one jq program per record kind, run by
// github.com/itchyny/gojq.
//
// # The file
//
// A mapping file is YAML with exactly two keys:
//
//	# erpbridge ERP mapping
//	erp: tryton            # kingdee | tryton: the connector this file is for
//	kinds:
//	  car_order: |         # a jq program per record kind
//	    {model: "account.invoice", values: {reference: .number}}
//	  "*": |               # optional: every kind not listed
//	    error("not mapped")
//
// Parse compiles every program at once and refuses the whole file when one
// is wrong: a missing erp:, or one that names another ERP than the
// connector's; no kinds; a key other than erp: and kinds: (a typo such as
// kinds_:); a kind whose program is empty; a program that does not compile;
// and a program that uses what mappings must not: env and $ENV (no
// environment, so no secrets, reaches a mapping; gojq is given none),
// input, inputs and input_filename (a program reads only its record),
// debug and stderr, halt and halt_error, import and include. The error names
// the file, the kind, the line and column in the file (for a literal block
// "|" or a one-line program; "program line" otherwise) and what is wrong, as
// in
//
//	mapping defaults/tryton.yaml: kind car_order: line 14, column 7: unexpected token "}"
//
// Default gives the file that ships for an ERP (defaults/<erp>.yaml,
// embedded); Load reads another one, as ERP_MAPPING names it.
//
// # The input
//
// Every program gets one object:
//
//	{"source": "fenbeitong", "kind": "car_order", "external_id": "6612…",
//	 "version": 81714527600000, "occurred_at": "2024-05-01T09:40:00+08:00",
//	 "number": "FBT-CAR-6612…", "data": {...}}
//
// occurred_at is RFC 3339 text as the HTTP contract sends it, number is
// erp.DocumentNumber (the number by which a connector finds the record's one
// document), and data is the record's data.
//
// # Exact numbers
//
// No number is ever a float64 on its way through a mapping unless the program
// makes it so. Integers in data stay integers, big ones too (*big.Int).
// Numbers in data with a fraction or an exponent become decimal values;
// money arrives as decimal text ("14.1"), which the functions below read
// exactly. A decimal value keeps its digits and its scale: 14.10 stays
// 14.10, and an exponent is written out (1e3 is 1000, 1.5e-3 is 0.0015).
//
// Inside a program a decimal value is text: the private-use character
// U+FDEC0 followed by the plain decimal text ("\U000FDEC0" + "12.30"). jq
// sees it as a string. Render writes every such value as a bare JSON number
// with exactly its digits (12.30, 98765432101234.5678). A record whose data
// holds U+FDEC0 anywhere is refused, so vendor text can never pass for a
// decimal value. Because a decimal value is text to jq, jq's own arithmetic
// and ordering do not apply to it: + joins it as text (Render then refuses
// the damaged value), < and sort compare text, and == compares digits
// (1.0 is not 1.00). Use the functions:
//
//	decimal            its input (decimal text, a number, a decimal value) as a decimal value;
//	                   text that is not a number in JSON's grammar is refused
//	decimal(x)         x as a decimal value: decimal("0.06")
//	dec_add(a; b)      a + b
//	dec_sub(a; b)      a - b
//	dec_mul(a; b)      a × b (scales add up: 1.10 × 2.00 is 2.2000)
//	dec_neg            -input
//	dec_abs            |input|
//	dec_sum            the sum of an array's numbers; nulls are skipped, [] is 0
//	dec_round(places)  input rounded half away from zero to places digits after
//	                   the point, with that scale (dec_round(2) of 1 is 1.00)
//	dec_cmp(a; b)      -1, 0 or 1 (1.0 equals 1.00)
//	dec_text           input as plain text ("12.30", "1000"), e.g. to put into a text field
//	truncate(n)        text cut to n characters, the last of them "…" when it was
//	                   longer, so a short ERP field is cut visibly
//
// decimal and the dec_ functions take decimal text, integers and decimal
// values; truncate takes text. Each gives null for a null it reads (dec_sum:
// for a null array). A float with a
// fraction (a number literal such as 0.5 in a program, or the result of /,
// tonumber or a math function) is binary, not exact: the functions refuse
// it, and so does Render in the output; write decimal("0.5") instead. A decimal value
// holds at most MaxDecimalDigits digits.
//
// # Rendering and errors
//
// Render runs the program of the record's kind, or "*", and wants exactly
// one value, a JSON object. It returns it as compact JSON, keys sorted,
// numbers exact. A program runs at most until its context ends or
// MaxRunTime, and its document may hold at most MaxOutputBytes.
//
// Render's errors are *Error: Error() names the file, the kind and what went
// wrong and never holds record content (it may reach logs and parking
// reasons); Detail() adds the values involved, for places that may hold
// them. gojq's own run-time messages appear in Error() with their quoted
// values and numbers replaced by "…", and whole in Detail(). A kind without
// a program wraps ErrNoMapping; a program stopped by
// its context wraps the context's error. A program may refuse a record
// with error("..."): Error() then says so and Detail() holds the message.
//
// Check and RenderFile do the work of the "mapping check" and "mapping
// render" commands and print to an io.Writer.
package mapping
