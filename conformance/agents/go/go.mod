module npipe/conformance/agents/go

go 1.19
