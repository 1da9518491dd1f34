pytest_plugins = ["labfixture"]
