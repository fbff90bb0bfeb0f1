module mirrorhook.dev/bench/admission-floor

go 1.22
