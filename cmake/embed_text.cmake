# Writes the text file IN as the C++ string constant NAME (in namespace NAMESPACE) into OUT.
file(READ "${IN}" text)
file(WRITE "${OUT}" "namespace ${NAMESPACE} {\nextern const char ${NAME}[] = R\"embedded(${text})embedded\";\n}\n")
