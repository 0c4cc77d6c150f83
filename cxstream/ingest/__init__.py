"""Getting records in: the JSON form of the contract's input kinds, shared by `cxstream publish`
and the HTTP gateway."""
