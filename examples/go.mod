module github.com/apikit/apikey/examples

go 1.26.8

require (
	github.com/apikit/apikey v0.0.0
	github.com/oklog/ulid/v2 v2.1.2
)

require golang.org/x/crypto v0.58.0 // indirect

replace github.com/apikit/apikey => ../
