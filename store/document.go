package store

// Sizes of the ERP document columns of record_states and sync_attempts.
const (
	documentIDLimit     = 128
	documentNumberLimit = 64
)

// documentColumns fits an ERP's document id and number to their columns.
func documentColumns(id, number string) (string, string) {
	return Truncate(id, documentIDLimit), Truncate(number, documentNumberLimit)
}

// addDocument adds the ERP's document to a record's updates when the ERP
// told one; an ERP that tells none (the HTTP contract) leaves the columns
// as they are.
func addDocument(updates map[string]any, id, number string) {
	if id == "" && number == "" {
		return
	}
	id, number = documentColumns(id, number)
	updates["erp_document_id"] = id
	updates["erp_document_number"] = number
}
