Any = object
