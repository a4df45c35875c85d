module github.com/apikit/apikey/examples

go 1.26.8

require github.com/apikit/apikey v0.0.0

replace github.com/apikit/apikey => ../
