// Package tryton delivers records to a Tryton server (6.0 and later) over
// JSON-RPC: each record becomes one document, found again by the record's
// number in its reference field, created when absent and written while it
// is still a draft. docs/erp-tryton.md says how to set a server up.
//
// # Protocol
//
// Calls are POSTs of {"id", "method", "params"} to TRYTON_URL +
// TRYTON_DATABASE + "/". The Sink logs in with common.db.login
// [login, {"password": ...}], keeps the [user id, session] it answers and
// sends "Authorization: Session base64(login:user_id:session)" with every
// later call; it reads the user's context (company, language) once per
// login with res.user.get_preferences and sends it with every model call, as
// the Tryton client does. HTTP 401 (a session that expired or that Tryton
// does not know) gets one new login and one repeat of the call. At most
// Config.MaxConcurrent calls are in flight at once; each is bounded by
// Config.Timeout.
//
// Tryton answers errors inside HTTP 200 as {"error": [name, args]}:
// UserError (validation: a required field, a wrong value, a domain) and
// UserWarning (it waits for a person's confirmation) are rejections;
// ConcurrencyException, Python exceptions about the database's momentary
// state (locked, serialization, connection), HTTP 5xx, 404, 429,
// timeouts and network errors are retryable; a failed login is retryable
// (the settings are wrong, not the record) and says which variables to
// check. Other Python exceptions are rejections: the same request gets the
// same answer. Tryton's own messages may echo record content, so the
// *erp.Error's Error() holds only their fingerprint and Detail() the text;
// neither ever holds the password or the session.
//
// Decimals travel as {"__class__": "Decimal", "decimal": "12.34"}, their
// digits kept exactly; dates as {"__class__": "date", ...} and datetimes,
// in UTC, as {"__class__": "datetime", ...}. Decode reads these from an
// answer into Decimal, Date and DateTime.
//
// # The document a mapping renders
//
// The mapping (erp/mapping, default erp/mapping/defaults/tryton.yaml)
// renders each record into one JSON object:
//
//	{
//	  "model": "account.invoice",          // the document's model
//	  "key": "reference",                  // optional: the field holding the number
//	  "values": {"type": "in", "description": "...", "invoice_date": "2024-05-01"},
//	  "refs": {                            // many2one fields named by a search
//	    "party": {"model": "party.party",
//	              "search": [["code", "=", "FENBEITONG"]],
//	              "create": {"name": "分贝通 Fenbeitong", "code": "FENBEITONG",
//	                         "addresses": [["create", [{}]]]}}},
//	  "on_change": ["type", "party"],      // optional: run these on_change methods
//	  "on_change_with": ["account"],       // optional: and these on_change_with
//	  "lines": {"field": "lines",          // optional: the one2many of lines
//	            "model": "account.invoice.line",   // optional: the field's relation
//	            "items": [{"values": {"type": "line", "quantity": 1, "unit_price": 14.10,
//	                                  "description": "起步价格"},
//	                       "refs": {"product": {"model": "product.product",
//	                                            "search": [["code", "=", "FBT-CAR"]]}},
//	                       "on_change": ["product"]}]},
//	  "context": {}                        // optional: added to the user's context
//	}
//
// Unknown keys are refused (a typo would silently drop a field), and so is
// a field the model does not have (checked with fields_get, asked once per
// model and Sink).
//
//   - values are the document's fields. Each is converted for its field's
//     type: numeric fields take decimal numbers or decimal text and become
//     Decimals, exactly; date fields take "YYYY-MM-DD" (or RFC 3339, its own
//     date); datetime fields take RFC 3339; many2one fields an id. Values of
//     one2many and many2many fields (Tryton's action lists) are sent as they
//     are. The key field gets the record's number, erp.DocumentNumber(r); a
//     mapping that sets it to anything else is refused.
//   - refs name related records by a Tryton domain instead of a database
//     id: the lowest id the search finds, active or not, is used; when none
//     matches, the record is created from "create" (converted the same way),
//     and without "create" the send is a rejection. A create that fails
//     because another send created the same record meanwhile (a unique code)
//     is followed by the search again. Within one send each search runs once.
//     Find parties by a code derived from a vendor's ids, never by a
//     person's name.
//   - on_change and on_change_with name fields whose Tryton methods fill
//     in what the mapping leaves out, as the Tryton client does when a
//     person sets those fields: a sale's party gives its invoice address and
//     payment term, an invoice's type its journal, party its address and
//     account, a line's product its unit and account. The Sink reads the
//     model's defaults (default_get, once per model in a send), adds the
//     mapping's values, sends each method the fields it depends on (a
//     line's dependencies on its document as "_parent_<field>.<name>"), and
//     keeps from the answer only fields the mapping did not set, that are
//     not read-only and are not x2many (taxes from on_change are therefore
//     not applied; a mapping sets them itself).
//   - lines are the document's one2many, replaced as a whole: a create
//     sends [["create", [...]]], a write [["delete", old ids], ["create",
//     [...]]] in the same write call, so the document ends exactly as the
//     newest state in one transaction.
//
// # Exactly one document per record
//
// Tryton has no idempotency key. Send first searches the model for the key
// field equal to the record's number (search_read, any state, active_test
// off): none found is a create; one found is a write of the same id while
// its state is "draft" (a model without a state field is always written);
// one in any other state (quotation, confirmed, processing, done, posted,
// paid, cancelled, ...) is a rejection naming the state, and nothing is
// written; more than one found is a rejection naming their ids. A create
// that Tryton committed but whose answer was lost (a timeout, a worker that
// died) is found by the next send of the record, which writes it instead.
// The one window left is a create still running in Tryton when the next
// send searches (after a client timeout shorter than the server's work):
// keep Config.Timeout well above Tryton's slowest create.
//
// Result.DocumentID is the document's Tryton id, Result.Number its
// reference, Result.Created whether this send created it.
package tryton
