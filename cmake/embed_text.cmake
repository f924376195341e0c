# Writes the text file IN as a C++ string constant `squeezenet::kImageNetClassesText` into OUT.
file(READ "${IN}" text)
file(WRITE "${OUT}" "namespace squeezenet {\nextern const char kImageNetClassesText[] = R\"embedded(${text})embedded\";\n}\n")
