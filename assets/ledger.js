/* Claims ledger page: filters, sorting and counts in the page, offline (issue 14). */
